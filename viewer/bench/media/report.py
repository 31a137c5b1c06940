"""`bench media`'s targets, table and JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.table import Table

from viewer.bench.media.runner import TIER, TITLES, RunResult
from viewer.bench.results import TargetResult

PASS, FAIL = "pass", "fail"
MB = 1e6


def evaluate(
    runs: list[RunResult], first_ms: float, grid_s: float, mb: float
) -> list[TargetResult]:
    targets: list[TargetResult] = []
    tier = next((r for r in runs if r.name == TIER), None)
    if tier is not None:
        first = tier.first_visible_ms
        grid = tier.grid_ms
        targets += [
            _target(
                "tier.first_visible",
                "tier: first visible thumbnail",
                f"<= {first_ms:g} ms",
                first,
                first is not None and first <= first_ms,
                "ms",
            ),
            _target(
                "tier.grid",
                "tier: whole grid",
                f"<= {grid_s:g} s",
                None if grid is None else grid / 1000,
                grid is not None and grid <= grid_s * 1000,
                "s",
            ),
            _target(
                "tier.bytes",
                "tier: bytes transferred",
                f"<= {mb:g} MB",
                tier.bytes_transferred / MB,
                tier.bytes_transferred <= mb * MB,
                "MB",
            ),
        ]
    for run in runs:
        targets += [
            _target(
                f"{run.name}.in_flight",
                f"{run.name}: fetches in flight",
                f"<= {run.fetch_cap}",
                run.peak_in_flight,
                run.peak_in_flight <= run.fetch_cap,
                "",
            ),
            _target(
                f"{run.name}.cache",
                f"{run.name}: local cache peak",
                f"<= {run.cache_cap_bytes / MB:,.0f} MB",
                run.cache_peak_bytes / MB,
                run.cache_peak_bytes <= run.cache_cap_bytes,
                "MB",
            ),
            _target(
                f"{run.name}.complete",
                f"{run.name}: every thumbnail delivered",
                "0 failed",
                run.failed,
                run.failed == 0 and run.grid_ms is not None,
                "failed",
            ),
        ]
    return targets


def _target(
    key: str, text: str, threshold: str, value: float | None, ok: bool, unit: str
) -> TargetResult:
    measured = "n/a" if value is None else f"{value:,.1f} {unit}".strip()
    return TargetResult(key, text, threshold, measured, PASS if ok else FAIL)


def table(runs: list[RunResult]) -> Table:
    grid = Table(title="Thumbnails over S3", title_justify="left", min_width=100)
    for name in (
        "run",
        "first visible",
        "all visible",
        "whole grid",
        "transferred",
        "failed",
        "peak in flight",
        "cache peak",
    ):
        grid.add_column(name, justify="left" if name == "run" else "right")
    for run in runs:
        grid.add_row(
            TITLES[run.name],
            _fmt_ms(run.first_visible_ms),
            _fmt_ms(run.all_visible_ms),
            _fmt_ms(run.grid_ms),
            f"{run.bytes_transferred / MB:,.1f} MB",
            str(run.failed),
            f"{run.peak_in_flight} / {run.fetch_cap}",
            f"{run.cache_peak_bytes / MB:,.1f} MB",
        )
    return grid


def targets_table(targets: list[TargetResult]) -> Table:
    shown = Table(title="Targets", title_justify="left", min_width=90)
    for name in ("target", "threshold", "measured", "status"):
        shown.add_column(name)
    for t in targets:
        shown.add_row(t.description, t.threshold, t.measured, t.status.upper())
    return shown


def _fmt_ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f} ms" if value < 10_000 else f"{value / 1000:,.1f} s"


def write_json(
    path: Path, meta: dict[str, Any], runs: list[RunResult], targets: list[TargetResult]
) -> None:
    payload = {
        "meta": meta,
        "runs": [asdict(r) for r in runs],
        "targets": [asdict(t) for t in targets],
        "passed": all(t.status == PASS for t in targets),
    }
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
