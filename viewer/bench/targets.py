"""The benchmark's pass/fail targets, evaluated on a finished report."""

from __future__ import annotations

from viewer.bench.results import BenchReport, RttResult, TargetResult
from viewer.bench.strategies import BASELINE, BATCH, FLOOR, STREAM

PASS, FAIL, SKIP = "pass", "fail", "skip"


def _lowest(report: BenchReport) -> RttResult | None:
    return min(report.rtts, key=lambda r: r.rtt_ms, default=None)


def _batch_statements(report: BenchReport) -> TargetResult:
    limit = report.config.targets.batch_statements
    counts = []
    for rtt in report.rtts:
        for key in (BATCH, STREAM):
            app = rtt.strategy(key)
            if app is not None:
                counts += [app.statements_min, app.statements_max]
        if rtt.concurrency is not None and rtt.concurrency.ok:
            counts.append(rtt.concurrency.statements_max)
    description = (
        "app batch and streamed loads: statements per inspection (every load, concurrent ones too)"
    )
    if not counts:
        return TargetResult("batch_statements", description, f"= {limit}", "-", SKIP)
    low, high = min(counts), max(counts)
    measured = str(high) if low == high else f"{low}-{high}"
    return TargetResult(
        "batch_statements",
        description,
        f"= {limit}",
        measured,
        PASS if low == high == limit else FAIL,
    )


def _speedup(report: BenchReport) -> TargetResult:
    targets = report.config.targets
    rtt_ms = targets.speedup_rtt_ms
    description = f"app batch load vs N+1 at {rtt_ms:g} ms RTT (ratio of medians)"
    threshold = f">= {targets.speedup_vs_n_plus_1:g}x"
    rtt = next((r for r in report.rtts if r.rtt_ms == rtt_ms), None)
    batch = rtt.strategy(BATCH) if rtt else None
    if rtt is None or batch is None or rtt.strategy(BASELINE) is None:
        return TargetResult(
            "speedup_vs_n_plus_1", description, threshold, f"not measured at {rtt_ms:g} ms", SKIP
        )
    speedup = batch.speedup_vs_n_plus_1 or 0.0
    return TargetResult(
        "speedup_vs_n_plus_1",
        description,
        threshold,
        f"{speedup:.1f}x",
        PASS if speedup >= targets.speedup_vs_n_plus_1 else FAIL,
    )


def _floor_ratio(report: BenchReport) -> TargetResult:
    limit = report.config.targets.floor_ratio
    rtt = _lowest(report)
    where = f"at {rtt.rtt_ms:g} ms RTT" if rtt else "at the lowest RTT"
    description = f"app batch load vs the floor (bare async psycopg) {where} (ratio of medians)"
    batch = rtt.strategy(BATCH) if rtt else None
    if rtt is None or batch is None or rtt.strategy(FLOOR) is None:
        return TargetResult("floor_ratio", description, f"<= {limit:g}x", "-", SKIP)
    ratio = batch.times_floor or 0.0
    return TargetResult(
        "floor_ratio",
        description,
        f"<= {limit:g}x",
        f"{ratio:.2f}x",
        PASS if ratio <= limit else FAIL,
    )


def _concurrency(report: BenchReport) -> TargetResult:
    limit = report.config.targets.concurrency_p95_ms
    rtt = _lowest(report)
    result = rtt.concurrency if rtt else None
    threshold = f"p95 <= {limit:g} ms, 0 errors"
    if rtt is None or result is None:
        return TargetResult(
            "concurrency_p95", "concurrent loads through the app's pool", threshold, "-", SKIP
        )
    description = (
        f"{result.concurrency} concurrent loads through the app's pool at {rtt.rtt_ms:g} ms RTT"
    )
    p95_ms = result.latency.p95 * 1000 if result.latency else float("inf")
    ok = p95_ms <= limit and result.errors == 0
    return TargetResult(
        "concurrency_p95",
        description,
        threshold,
        f"p95 {p95_ms:.1f} ms, {result.errors} errors",
        PASS if ok else FAIL,
    )


def _thumbnail_cache(report: BenchReport) -> TargetResult:
    thumbs = report.thumbnails
    description = "thumbnail memory cache stays within its byte cap"
    if thumbs.cache_bytes is None or thumbs.cache_cap_bytes is None:
        return TargetResult("thumbnail_cache_cap", description, "bytes <= cap", thumbs.status, SKIP)
    ok = thumbs.cache_bytes <= thumbs.cache_cap_bytes
    return TargetResult(
        "thumbnail_cache_cap",
        description,
        "bytes <= cap",
        f"{thumbs.cache_bytes / 2**20:.1f} of {thumbs.cache_cap_bytes / 2**20:.1f} MiB"
        f" ({thumbs.cache_evictions or 0} evictions)",
        PASS if ok else FAIL,
    )


def evaluate(report: BenchReport) -> tuple[TargetResult, ...]:
    return (
        _batch_statements(report),
        _speedup(report),
        _floor_ratio(report),
        _concurrency(report),
        _thumbnail_cache(report),
    )
