"""The GUI benchmark's pass/fail targets (issue #13), evaluated on the worst run of each."""

from __future__ import annotations

from viewer.bench.gui.results import (
    COLD,
    LARGE_COLD,
    LARGE_WARM,
    SCENARIOS,
    WARM,
    GuiReport,
    RunResult,
)
from viewer.bench.results import TargetResult

PASS, FAIL, SKIP = "pass", "fail", "skip"


def evaluate(report: GuiReport) -> tuple[TargetResult, ...]:
    targets: list[TargetResult] = []
    for scenario in SCENARIOS:
        runs = report.runs_of(scenario)
        if runs:
            targets += _heartbeat(report, scenario, runs)
            if scenario in COLD or scenario in WARM:
                targets.append(_first_thumbnail(report, scenario, runs))
    targets.append(_statements(report))
    targets.append(_memory(report))
    return tuple(targets)


def _worst(runs: list[RunResult], value: list[float]) -> tuple[float, int]:
    worst = max(range(len(runs)), key=lambda i: value[i])
    return value[worst], runs[worst].run


def _heartbeat(report: GuiReport, scenario: str, runs: list[RunResult]) -> list[TargetResult]:
    t = report.config.targets
    title = report.scenarios[scenario]
    longest, at = _worst(runs, [r.heartbeat.max_own_ms for r in runs])
    p99, p99_at = _worst(runs, [r.heartbeat.p99_ms for r in runs])
    of = f" (worst of {len(runs)}: run {{}})" if len(runs) > 1 else ""
    return [
        TargetResult(
            f"{scenario}.max_gap",
            f"{title}: longest GUI-thread gap, less what the host took in it",
            f"<= {t.max_gap_ms:g} ms",
            f"{longest:,.1f} ms" + of.format(at) + _host_part(runs),
            PASS if longest <= t.max_gap_ms else FAIL,
        ),
        TargetResult(
            f"{scenario}.p99_gap",
            f"{title}: p99 GUI-thread gap",
            f"<= {t.p99_gap_ms:g} ms",
            f"{p99:,.1f} ms" + of.format(p99_at),
            PASS if p99 <= t.p99_gap_ms else FAIL,
        ),
    ]


def _host_part(runs: list[RunResult]) -> str:
    """Said beside the figure whenever the host's steal shortened a run's longest gap."""
    parts = [
        f"run {r.run}: {r.heartbeat.max_ms:,.1f} ms whole"
        for r in runs
        if r.heartbeat.max_ms > r.heartbeat.max_own_ms
    ]
    return f"; the host held a CPU in gaps of {', '.join(parts)}" if parts else ""


def _first_thumbnail(report: GuiReport, scenario: str, runs: list[RunResult]) -> TargetResult:
    t = report.config.targets
    limit = t.first_cold_ms if scenario in COLD else t.first_warm_ms
    description = f"{report.scenarios[scenario]}: selection to first visible thumbnail painted"
    missing = [r.run for r in runs if r.first_visible_ms is None]
    if missing:
        return TargetResult(
            f"{scenario}.first_thumbnail",
            description,
            f"<= {limit:g} ms",
            f"none painted in run {', '.join(map(str, missing))}",
            FAIL,
        )
    worst, at = _worst(runs, [r.first_visible_ms or 0.0 for r in runs])
    of = f" (worst of {len(runs)}: run {at})" if len(runs) > 1 else ""
    return TargetResult(
        f"{scenario}.first_thumbnail",
        description,
        f"<= {limit:g} ms",
        f"{worst:,.1f} ms{of}",
        PASS if worst <= limit else FAIL,
    )


def _statements(report: GuiReport) -> TargetResult:
    limit = report.config.targets.statements_per_load
    counts = [n for r in report.runs for n in r.loads.statements]
    description = "statements per completed media load (the presenter's QueryMetrics)"
    if not counts:
        return TargetResult("statements_per_load", description, f"= {limit}", "-", SKIP)
    low, high = min(counts), max(counts)
    measured = (str(high) if low == high else f"{low}-{high}") + f" over {len(counts)} loads"
    return TargetResult(
        "statements_per_load",
        description,
        f"= {limit}",
        measured,
        PASS if low == high == limit else FAIL,
    )


def _memory(report: GuiReport) -> TargetResult:
    limit = report.config.targets.rss_mb
    runs = report.runs_of(LARGE_COLD) + report.runs_of(LARGE_WARM)
    description = (
        f"peak resident memory in the {report.dataset['generated']['photos']:,}-photo "
        f"scenarios ({report.config.cache_mb} MB thumbnail cache)"
    )
    if not runs:
        return TargetResult("peak_rss", description, f"<= {limit:g} MB", "not run", SKIP)
    worst = max(r.memory.peak_mb for r in runs)
    return TargetResult(
        "peak_rss",
        description,
        f"<= {limit:g} MB",
        f"{worst:,.0f} MB",
        PASS if worst <= limit else FAIL,
    )
