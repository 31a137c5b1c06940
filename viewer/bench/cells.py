"""The cells, rows and titles that the terminal tables and the Markdown tables share."""

from __future__ import annotations

from viewer.bench.results import (
    BenchReport,
    ConcurrencyResult,
    RttResult,
    StrategyResult,
    ThumbnailPass,
)
from viewer.bench.stats import Summary


def _median_ci(summary: Summary) -> str:
    """The median with its confidence interval, e.g. "21.77 (18.20-30.10)", in milliseconds."""
    median = summary.p50 * 1000
    digits = 2 if median < 100 else 1
    text = f"{median:,.{digits}f}"
    if summary.ci_low is None or summary.ci_high is None:
        return text
    return f"{text} ({summary.ci_low * 1000:,.{digits}f}-{summary.ci_high * 1000:,.{digits}f})"


def _ms_cell(value: float) -> str:
    ms = value * 1000
    return f"{ms:,.2f}" if ms < 100 else f"{ms:,.1f}"


def _ratio(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}x"


def _statements(s: StrategyResult) -> str:
    if s.statements_min == s.statements_max:
        return f"{s.statements_max:,}"
    return f"{s.statements_min:,}-{s.statements_max:,}"


STRATEGY_HEADERS = (
    "strategy",
    "statements",
    "p50 (95% CI) ms",
    "p95 ms",
    "p99 ms",
    "n",
    "rows/s",
    "speed-up vs N+1",
    "x floor",
)


def strategy_row(s: StrategyResult) -> tuple[str, ...]:
    return (
        s.label,
        _statements(s),
        _median_ci(s.seconds),
        _ms_cell(s.seconds.p95),
        _ms_cell(s.seconds.p99),
        str(s.seconds.count),
        f"{s.rows_per_second:,.0f}",
        _ratio(s.speedup_vs_n_plus_1),
        _ratio(s.times_floor, 2),
    )


CONCURRENCY_HEADERS = (
    "RTT",
    "concurrent",
    "loads",
    "errors",
    "loads/s",
    "rows/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
)


def concurrency_row(r: RttResult, c: ConcurrencyResult) -> tuple[str, ...]:
    lat = c.latency
    return (
        f"{r.rtt_ms:g} ms",
        str(c.concurrency),
        f"{c.loads:,}",
        str(c.errors),
        f"{c.loads_per_second:,.0f}",
        f"{c.rows_per_second:,.0f}",
        _ms_cell(lat.p50) if lat else "-",
        _ms_cell(lat.p95) if lat else "-",
        _ms_cell(lat.p99) if lat else "-",
        _ms_cell(lat.maximum) if lat else "-",
    )


THUMBNAIL_HEADERS = ("pass", "thumbnails/s", "first thumbnail ms", "seconds", "failed")


def thumbnail_row(p: ThumbnailPass) -> tuple[str, ...]:
    return (
        p.name,
        f"{p.per_second:,.0f}",
        f"{p.first_ms:,.1f}",
        f"{p.seconds:.2f}",
        str(p.failed),
    )


def rtt_title(r: RttResult) -> str:
    if not r.via_proxy:
        return f"RTT {r.rtt_ms:g} ms (direct; SELECT 1 round trip {r.measured_rtt_ms:.2f} ms)"
    return (
        f"RTT {r.rtt_ms:g} ms (delay proxy on loopback; measured SELECT 1 round trip "
        f"{r.measured_rtt_ms:.2f} ms)"
    )


def server_side(report: BenchReport) -> str:
    db = report.database
    p50, size = db.get("batch_function_p50_ms"), db.get("batch_result_bytes")
    if p50 is None or size is None:
        return "-"
    return (
        f"get_inspection_media_batch() logs p50 {p50:.2f} ms inside the server for the first "
        f"measured inspection ({db['batch_function_calls']:,} calls); its rows are "
        f"{size / 1024:,.0f} KiB"
    )


def inspection_line(report: BenchReport) -> str:
    measured = report.dataset["measured_inspections"]
    if len(measured) == 1:
        m = measured[0]
        return (
            f"one load = inspection {m['reference']}: {m['items']:,} checklist items, "
            f"{m['media']:,} photos"
        )
    items = {m["items"] for m in measured}
    media = {m["media"] for m in measured}
    return (
        f"one load = one of {len(measured)} inspections in turn, each "
        f"{'/'.join(f'{i:,}' for i in sorted(items))} checklist items, "
        f"{'/'.join(f'{m:,}' for m in sorted(media))} photos"
    )
