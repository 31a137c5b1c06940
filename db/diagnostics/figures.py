"""The performance panel's figures as plain frozen data: settings, actions, latency, server."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from db.performance import IndexUsage, QueryPerformance

# The panel's own server queries run in a scope of this kind, uncounted (QueryMetrics.action).
DIAGNOSTICS_KIND = "diagnostics"
# Sentry's N+1 rule: one action issuing this many similar statements is one query per row.
N_PLUS_ONE_THRESHOLD = 5
# p95 of media loads at or under this costs the health score nothing; at twice it (the default
# slow-statement threshold) the whole latency share is gone.
DEFAULT_P95_TARGET_S = 0.25
# (metrics kind, what the panel calls it): the rolling latency windows it shows.
LATENCY_KINDS: tuple[tuple[str, str], ...] = (
    ("load_media", "Media loads"),
    ("load_checklist", "Checklist loads"),
    ("thumbnail_decode", "Thumbnail decodes"),
    ("thumbnail_disk", "Thumbnail disk reads"),
)
# The kinds the latency chart draws: media loads as bars, checklist loads as a line.
CHART_KINDS = ("load_media", "load_checklist")


@dataclass(frozen=True)
class PanelSettings:
    """What the figures cover and the thresholds they are judged by."""

    statement_actions: int = 10  # the last N actions' statements are listed
    max_statement_rows: int = 1000  # the fallback of the large inspection alone is 221
    n_plus_one_threshold: int = N_PLUS_ONE_THRESHOLD
    p95_target_s: float = DEFAULT_P95_TARGET_S
    chart_points: int = 120


@dataclass(frozen=True)
class ActionSummary:
    id: int
    kind: str
    label: str  # with the inspection's reference code when it is known
    inspection_id: int | None
    statement_count: int
    strategy: str | None
    duration_ms: float
    rows: int
    retries: int
    ok: bool
    cancelled: bool
    error: str | None
    finished_at: float  # seconds since the epoch
    similar: int  # statements that have at least one similar one in the action (DjDT)
    duplicates: int  # statements that have at least one duplicate in the action


@dataclass(frozen=True)
class StatementRow:
    action_id: int
    action: str
    position: int  # 1-based within its action
    sql: str  # parameters elided, whitespace collapsed
    parameters: str
    duration_ms: float
    rows: int
    similar: int  # statements of the action with the same SQL (itself included)
    duplicates: int  # statements of the action with the same SQL and parameters
    error: str | None
    slow: bool


@dataclass(frozen=True)
class NPlusOne:
    action_id: int
    action: str
    sql: str
    count: int
    total_ms: float


@dataclass(frozen=True)
class LatencyRow:
    kind: str
    title: str
    count: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None


@dataclass(frozen=True)
class LatencyFigures:
    window: int
    rows: tuple[LatencyRow, ...]
    # Recent latencies (oldest first) for the chart, by kind in CHART_KINDS.
    recent_ms: dict[str, tuple[float, ...]]
    slow_threshold_ms: float


@dataclass(frozen=True)
class SlowRow:
    finished_at: float
    action_id: int
    action: str
    sql: str
    parameters: str
    duration_ms: float
    rows: int
    error: str | None


@dataclass(frozen=True)
class SlowFigures:
    threshold_ms: float
    limit: int
    rows: tuple[SlowRow, ...]  # newest first


@dataclass(frozen=True)
class ThumbnailFigures:
    """The thumbnail service's statistics, as the panel gets them from the viewer side."""

    entries: int
    bytes: int
    cap_bytes: int
    hits: int
    misses: int
    hit_rate: float | None  # of the memory cache; None before the first lookup
    evictions: int
    requests: int
    memory_hits: int
    disk_hits: int
    decodes: int
    errors: dict[str, int]  # decode errors by kind
    errors_total: int
    queued: int
    in_flight: int

    @classmethod
    def make(cls, **counts: Any) -> ThumbnailFigures:
        """From the counters; hit_rate and errors_total are derived here, once."""
        hits, misses = counts["hits"], counts["misses"]
        errors = {str(k): int(n) for k, n in sorted(counts.pop("errors").items()) if n}
        return cls(
            **counts,
            hit_rate=hits / (hits + misses) if hits + misses else None,
            errors=errors,
            errors_total=sum(errors.values()),
        )

    def since(self, baseline: ThumbnailFigures | None) -> ThumbnailFigures:
        """Counters since `baseline` (the panel's Reset); entries, bytes and queues are state."""
        if baseline is None:
            return self
        return ThumbnailFigures.make(
            entries=self.entries,
            bytes=self.bytes,
            cap_bytes=self.cap_bytes,
            hits=self.hits - baseline.hits,
            misses=self.misses - baseline.misses,
            evictions=self.evictions - baseline.evictions,
            requests=self.requests - baseline.requests,
            memory_hits=self.memory_hits - baseline.memory_hits,
            disk_hits=self.disk_hits - baseline.disk_hits,
            decodes=self.decodes - baseline.decodes,
            errors={
                k: self.errors.get(k, 0) - baseline.errors.get(k, 0)
                for k in set(self.errors) | set(baseline.errors)
            },
            queued=self.queued,
            in_flight=self.in_flight,
        )


@dataclass(frozen=True)
class ResilienceFigures:
    actions: int
    statements: int
    fallbacks: int
    retries: int
    errors: int
    last_error: str | None


@dataclass(frozen=True)
class HealthPart:
    name: str
    weight: float
    penalty: float
    measured: str  # what went in, for the hover text


@dataclass(frozen=True)
class Health:
    score: int
    band: str  # good | fair | poor
    parts: tuple[HealthPart, ...]


@dataclass(frozen=True)
class TopStatement:
    """One pg_stat_statements entry (its query text normalised by the server: $1, $2...)."""

    query: str
    calls: int
    total_ms: float
    mean_ms: float
    rows: int
    shared_hit: int
    shared_read: int


@dataclass(frozen=True)
class ExplainFigures:
    inspection_id: int
    inspection: str
    plan: str  # rendered like EXPLAIN's text format
    indexes: tuple[str, ...]  # the indexes the plan used, in plan order
    planning_ms: float
    execution_ms: float
    shared_hit: int
    shared_read: int


@dataclass(frozen=True)
class ServerReport:
    """The server's side, fetched on demand; each part fails (with its reason) on its own."""

    available: bool
    message: str | None = None
    taken_at: float = 0.0
    functions: tuple[QueryPerformance, ...] = ()
    functions_error: str | None = None
    indexes: tuple[IndexUsage, ...] = ()
    indexes_error: str | None = None
    explain: ExplainFigures | None = None
    explain_error: str | None = None
    top: tuple[TopStatement, ...] = ()
    top_error: str | None = None
    statements: int = 0  # the report's own statements (kept out of the panel's counts)
    duration_ms: float = 0.0

    @classmethod
    def unavailable(cls, message: str) -> ServerReport:
        return cls(available=False, message=message, taken_at=time.time())


ServerProvider = Callable[[], Awaitable[ServerReport]]


@dataclass(frozen=True)
class Figures:
    """Every figure the performance panel shows; `snapshot()` is its JSON form."""

    taken_at: float
    settings: PanelSettings
    last_action: ActionSummary | None
    actions: tuple[ActionSummary, ...]  # newest first
    statements: tuple[StatementRow, ...]
    statements_truncated: int  # rows left out over max_statement_rows
    n_plus_one: tuple[NPlusOne, ...]
    latency: LatencyFigures
    slow: SlowFigures
    thumbnails: ThumbnailFigures | None
    resilience: ResilienceFigures
    health: Health
    server: ServerReport | None = None
