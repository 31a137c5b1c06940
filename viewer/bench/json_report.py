"""The benchmark's JSON document: every figure and sample, in milliseconds, for tools to read."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from viewer.bench.results import (
    BenchReport,
    ConcurrencyResult,
    RttResult,
    StrategyResult,
    ThumbnailsResult,
)
from viewer.bench.stats import Summary

# 2: the ci95 fields are the interval of the median (p50), no longer of the mean.
JSON_SCHEMA_VERSION = 2


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 4)


def _summary_ms(summary: Summary | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    return {
        "count": summary.count,
        "mean_ms": _ms(summary.mean),
        "stdev_ms": _ms(summary.stdev),
        # The interval is the median's (bootstrap percentile), not the mean's: see stats.py.
        "ci95_low_ms": _ms(summary.ci_low),
        "ci95_high_ms": _ms(summary.ci_high),
        "ci_of": "p50",
        "confidence": summary.confidence,
        "min_ms": _ms(summary.minimum),
        "p50_ms": _ms(summary.p50),
        "p95_ms": _ms(summary.p95),
        "p99_ms": _ms(summary.p99),
        "max_ms": _ms(summary.maximum),
    }


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _strategy_json(s: StrategyResult) -> dict[str, Any]:
    return {
        "key": s.key,
        "label": s.label,
        "description": s.description,
        "statements_per_inspection": s.statements_max,
        "statements_min": s.statements_min,
        "statements_max": s.statements_max,
        "rows_per_load": s.rows_per_load,
        "samples": s.seconds.count,
        "samples_per_round": s.samples_per_round,
        "latency": _summary_ms(s.seconds),
        "rows_per_second": round(s.rows_per_second, 1),
        "speedup_vs_n_plus_1": _round(s.speedup_vs_n_plus_1),
        "times_floor": _round(s.times_floor),
        "samples_ms": [_ms(v) for v in s.samples],
    }


def _concurrency_json(c: ConcurrencyResult | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "concurrency": c.concurrency,
        "loads": c.loads,
        "ok": c.ok,
        "errors": c.errors,
        "error_messages": list(c.error_messages),
        "retries": c.retries,
        "statements_max": c.statements_max,
        "seconds": round(c.seconds, 4),
        "loads_per_second": round(c.loads_per_second, 1),
        "rows_per_second": round(c.rows_per_second, 1),
        "latency": _summary_ms(c.latency),
        "pool_size": c.pool_size,
        "pool_max_overflow": c.pool_max_overflow,
        "inspections_in_mix": c.inspections,
    }


def _rtt_json(r: RttResult) -> dict[str, Any]:
    return {
        "rtt_ms": r.rtt_ms,
        "measured_rtt_ms": round(r.measured_rtt_ms, 4),
        "via_proxy": r.via_proxy,
        "proxy": dataclasses.asdict(r.proxy) if r.proxy else None,
        "strategies": [_strategy_json(s) for s in r.strategies],
        "concurrency": _concurrency_json(r.concurrency),
    }


def _thumbnails_json(t: ThumbnailsResult) -> dict[str, Any]:
    return {
        "status": t.status,
        "detail": t.detail,
        "files": t.files,
        "threads": t.threads,
        "size_px": t.size_px,
        "passes": [
            {
                "name": p.name,
                "seconds": round(p.seconds, 4),
                "thumbnails_per_second": round(p.per_second, 1),
                "first_thumbnail_ms": round(p.first_ms, 2),
                "delivered": p.delivered,
                "failed": p.failed,
            }
            for p in t.passes
        ],
        "cache_bytes": t.cache_bytes,
        "cache_cap_bytes": t.cache_cap_bytes,
        "cache_evictions": t.cache_evictions,
    }


def to_json(report: BenchReport) -> dict[str, Any]:
    config = dataclasses.asdict(report.config)
    return {
        "schema": JSON_SCHEMA_VERSION,
        "command": report.command,
        "started_at": report.started_at,
        "seconds": round(report.seconds, 2),
        "passed": report.passed,
        "machine": report.machine,
        "database": report.database,
        "dataset": report.dataset,
        "config": config,
        "rtts": [_rtt_json(r) for r in report.rtts],
        "thumbnails": _thumbnails_json(report.thumbnails),
        "targets": [dataclasses.asdict(t) for t in report.targets],
    }


def write_json(report: BenchReport, path: Path) -> None:
    path.write_text(json.dumps(to_json(report), indent=2) + "\n")
