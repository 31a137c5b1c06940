"""The performance panel's figures: statement grouping, N+1 and slow statements, health, server."""

from __future__ import annotations

import dataclasses
import math
import re
import time
import types
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from cachetools import LRUCache
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.config import mask_password
from db.metrics import ActionRecord, QueryMetrics, percentiles
from db.performance import (
    BATCH_FUNCTION,
    BATCH_QUERY_SQL,
    IndexUsage,
    QueryPerformance,
    analyze_query_performance,
    verify_index_usage,
)

T = TypeVar("T")

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
CHART_KINDS = ("load_media", "load_checklist")
SNAPSHOT_FORMAT = "inspection-viewer/performance"
SNAPSHOT_VERSION = 1
OFFLINE_MESSAGE = (
    "Not available offline: an offline bundle is a read-only SQLite copy, "
    "there is no database server to ask."
)
# The tables and function whose statements the server-side view lists (word boundaries, so
# "media" does not match "get_inspection_media_batch" twice).
OUR_STATEMENTS_PATTERN = r"\m(inspections|checklist_items|media|get_inspection_media_batch)\M"
# Queries and changes only: not DDL, ANALYZE, nor the panel's own EXPLAIN (utility statements,
# which pg_stat_statements also tracks).
DML_PATTERN = r"^\s*(select|with|insert|update|delete)\M"


@dataclass(frozen=True)
class PanelSettings:
    """What the figures cover and the thresholds they are judged by."""

    statement_actions: int = 10  # the last N actions' statements are listed
    max_statement_rows: int = 1000  # the fallback of the large inspection alone is 221
    n_plus_one_threshold: int = N_PLUS_ONE_THRESHOLD
    p95_target_s: float = DEFAULT_P95_TARGET_S
    chart_points: int = 120


# --- figures: everything the panel shows, as plain data ---------------------------------------


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


# --- statements ---------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")
_STRING = re.compile(r"'(?:[^']|'')*'")
# psycopg's %(name)s and %s, libpq's $1, SQLite's ?, SQLAlchemy's :name (not a ::cast).
_PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|\$\d+|(?<![:\w]):\w+|\?")
_NUMBER = re.compile(r"(?<![\w.$])-?\d+(?:\.\d+)?(?![\w.])")
_IN_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)+\s*\)")
_INSPECTION_LABEL = re.compile(r"\binspection=(\d+)\b")


def elide_sql(sql: str) -> str:
    """The statement with every parameter and literal as `?`, on one line: the key of "similar"
    (as Sentry normalises queries) and what the panel shows."""
    text_ = _STRING.sub("?", sql)
    text_ = _PLACEHOLDER.sub("?", text_)
    text_ = _NUMBER.sub("?", text_)
    text_ = _WHITESPACE.sub(" ", text_).strip()
    return _IN_LIST.sub("(...)", text_)


def short_sql(sql: str) -> str:
    """The select list collapsed to "…" (Django Debug Toolbar's SELECT ••• FROM), so the table
    column shows what distinguishes a statement: its tables and conditions."""
    upper = sql.upper()
    if not upper.startswith("SELECT "):
        return sql
    depth = 0
    i = len("SELECT ")
    while i < len(sql):
        ch = sql[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and upper.startswith(" FROM ", i):
            return "SELECT … " + sql[i + 1 :]
        i += 1
    return sql


def display_label(label: str, reference_of: Callable[[int], str | None] | None) -> str:
    """`load_media inspection=42` as `load_media inspection=AB-1042` when the code is known."""
    if reference_of is None:
        return label

    def swap(match: re.Match[str]) -> str:
        reference = reference_of(int(match.group(1)))
        return f"inspection={reference}" if reference else match.group(0)

    return _INSPECTION_LABEL.sub(swap, label)


def _inspection_id(label: str) -> int | None:
    match = _INSPECTION_LABEL.search(label)
    return int(match.group(1)) if match else None


def is_cancelled(record: ActionRecord) -> bool:
    return not record.ok and record.error is None


@dataclass(frozen=True)
class ActionAnalysis:
    """One finished action seen the Django Debug Toolbar way, with Sentry's N+1 rule."""

    summary: ActionSummary
    statements: tuple[StatementRow, ...]
    n_plus_one: tuple[NPlusOne, ...]


def analyze_action(
    record: ActionRecord,
    label: str,
    *,
    slow_threshold_s: float,
    n_plus_one_threshold: int = N_PLUS_ONE_THRESHOLD,
) -> ActionAnalysis:
    """Similar (same SQL) and duplicate (same SQL and parameters) counts within the action, and
    the statements it ran `n_plus_one_threshold` or more times with only the parameters changed."""
    keys = [elide_sql(s.sql) for s in record.statements]
    params = [s.parameters for s in record.statements]
    similar = Counter(keys)
    duplicates = Counter(zip(keys, params, strict=True))
    total_s: dict[str, float] = {}
    for key, s in zip(keys, record.statements, strict=True):
        total_s[key] = total_s.get(key, 0.0) + s.seconds
    summary = ActionSummary(
        id=record.id,
        kind=record.kind,
        label=label,
        inspection_id=_inspection_id(record.label),
        statement_count=record.statement_count,
        strategy=record.strategy,
        duration_ms=record.seconds * 1000,
        rows=record.rows,
        retries=record.retries,
        ok=record.ok,
        cancelled=is_cancelled(record),
        error=record.error,
        finished_at=record.finished_at,
        similar=sum(n for n in similar.values() if n > 1),
        duplicates=sum(n for n in duplicates.values() if n > 1),
    )
    rows = tuple(
        StatementRow(
            action_id=record.id,
            action=label,
            position=i,
            sql=key,
            parameters=param,
            duration_ms=s.seconds * 1000,
            rows=s.rows,
            similar=similar[key],
            duplicates=duplicates[key, param],
            error=s.error,
            slow=s.seconds >= slow_threshold_s,
        )
        for i, (key, param, s) in enumerate(zip(keys, params, record.statements, strict=True), 1)
    )
    warnings = tuple(
        NPlusOne(record.id, label, key, n, total_s[key] * 1000)
        for key, n in similar.most_common()
        if n >= n_plus_one_threshold
    )
    return ActionAnalysis(summary, rows, warnings)


# --- health ---------------------------------------------------------------------------------------

# The score, 0 to 100: 100 minus four bounded penalties (the hover text shows this and each part).
HEALTH_WEIGHTS = {"errors": 40.0, "fallbacks": 25.0, "latency": 25.0, "cache": 10.0}
# Error rate at which the whole error share is lost: one action in ten failing or retrying is
# already an outage to the person waiting.
HEALTH_ERROR_RATE_CEILING = 0.10
HEALTH_BANDS = ((90, "good"), (70, "fair"), (0, "poor"))
HEALTH_FORMULA = (
    "score = 100 - errors - fallbacks - latency - cache, each part bounded:\n"
    "  errors    = 40 * min(1, error rate / 10%)   errors and retries per action\n"
    "  fallbacks = 25 * fallback rate              media loads on the per-item fallback\n"
    "  latency   = 25 * clamp(p95 / target - 1, 0, 1)   media loads: nothing at or under\n"
    "              the target, all 25 at twice it\n"
    "  cache     = 10 * (1 - hit rate)             thumbnail memory cache\n"
    "good >= 90, fair >= 70, poor below"
)


def _clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return min(high, max(low, value))


def health_score(
    *,
    actions: int,
    errors: int,
    media_loads: int,
    fallbacks: int,
    p95_s: float | None,
    p95_target_s: float,
    cache_hits: int,
    cache_lookups: int,
) -> Health:
    """The formula in HEALTH_FORMULA. A part with nothing measured yet costs nothing: a fresh
    session is healthy until it shows otherwise."""
    error_rate = errors / actions if actions else 0.0
    fallback_rate = _clamp(fallbacks / media_loads) if media_loads else 0.0
    overshoot = _clamp(p95_s / p95_target_s - 1) if p95_s is not None and p95_target_s else 0.0
    hit_rate = cache_hits / cache_lookups if cache_lookups else 1.0
    w = HEALTH_WEIGHTS
    parts = (
        HealthPart(
            "errors",
            w["errors"],
            w["errors"] * _clamp(error_rate / HEALTH_ERROR_RATE_CEILING),
            f"{errors} in {actions} actions ({error_rate:.1%})",
        ),
        HealthPart(
            "fallbacks",
            w["fallbacks"],
            w["fallbacks"] * fallback_rate,
            f"{fallbacks} of {media_loads} media loads ({fallback_rate:.1%})",
        ),
        HealthPart(
            "latency",
            w["latency"],
            w["latency"] * overshoot,
            "no media loads yet"
            if p95_s is None
            else f"p95 {p95_s * 1000:.0f} ms against {p95_target_s * 1000:.0f} ms",
        ),
        HealthPart(
            "cache",
            w["cache"],
            w["cache"] * (1 - hit_rate),
            "no lookups yet"
            if not cache_lookups
            else f"hit rate {hit_rate:.1%} of {cache_lookups:,} lookups",
        ),
    )
    score = round(_clamp(100 - sum(p.penalty for p in parts), 0, 100))
    band = next(name for floor, name in HEALTH_BANDS if score >= floor)
    return Health(score=score, band=band, parts=parts)


def health_tooltip(health: Health) -> str:
    lines = [f"Health {health.score} / 100 ({health.band})", ""]
    lines += [f"{p.name}: -{p.penalty:.1f} of {p.weight:.0f}  ({p.measured})" for p in health.parts]
    return "\n".join([*lines, "", HEALTH_FORMULA])


# --- collecting ---------------------------------------------------------------------------------


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def latency_row(kind: str, title: str, values: Sequence[float]) -> LatencyRow:
    p = percentiles(values)
    return LatencyRow(kind, title, p.count, _ms(p.p50), _ms(p.p95), _ms(p.p99), _ms(p.max))


class Collector:
    """Computes the panel's Figures from a QueryMetrics, remembering each action's analysis
    (actions never change once finished, and the panel asks up to four times a second)."""

    def __init__(self, metrics: QueryMetrics, settings: PanelSettings | None = None) -> None:
        self.metrics = metrics
        self.settings = settings or PanelSettings()
        self._analyses: LRUCache[tuple[Any, ...], ActionAnalysis] = LRUCache(maxsize=64)

    def analysis(self, record: ActionRecord, label: str) -> ActionAnalysis:
        key = (
            record.id,
            label,
            self.metrics.slow_threshold_s,
            self.settings.n_plus_one_threshold,
        )
        found = self._analyses.get(key)
        if found is None:
            found = analyze_action(
                record,
                label,
                slow_threshold_s=self.metrics.slow_threshold_s,
                n_plus_one_threshold=self.settings.n_plus_one_threshold,
            )
            self._analyses[key] = found
        return found

    def collect(
        self,
        *,
        thumbnails: ThumbnailFigures | None = None,
        server: ServerReport | None = None,
        reference_of: Callable[[int], str | None] | None = None,
    ) -> Figures:
        """Read the metrics once and compute every figure of the panel."""
        metrics, settings = self.metrics, self.settings
        references: dict[int, str | None] = {}

        def reference(inspection_id: int) -> str | None:
            # Memoised for this call: a lookup may scan the inspection list.
            if inspection_id not in references:
                references[inspection_id] = reference_of(inspection_id) if reference_of else None
            return references[inspection_id]

        def label(raw: str) -> str:
            return display_label(raw, reference)

        threshold_s = metrics.slow_threshold_s
        records = [r for r in reversed(metrics.recent()) if r.kind != DIAGNOSTICS_KIND]
        analyses = [self.analysis(r, label(r.label)) for r in records[: settings.statement_actions]]
        # The media load is the one with a strategy, and the one the product's claim is about;
        # the checklist load of the same selection finishes at about the same time, in either
        # order, so "the last action" is the last media load when there is one.
        last_record = next(
            (r for r in records if r.kind == "load_media" and not is_cancelled(r)),
            next((r for r in records if not is_cancelled(r)), None),
        )
        last_action = (
            None
            if last_record is None
            else self.analysis(last_record, label(last_record.label)).summary
        )
        rows = [row for a in analyses for row in a.statements]
        truncated = max(0, len(rows) - settings.max_statement_rows)

        latency_rows = []
        recent: dict[str, tuple[float, ...]] = {}
        for kind, title in LATENCY_KINDS:
            values = metrics.samples(kind)
            latency_rows.append(latency_row(kind, title, values))
            if kind in CHART_KINDS:
                tail = values[-settings.chart_points :] if settings.chart_points > 0 else []
                recent[kind] = tuple(v * 1000 for v in tail)

        slow_rows = tuple(
            SlowRow(
                s.finished_at,
                s.action_id,
                label(s.label),
                elide_sql(s.sql),
                s.parameters,
                s.seconds * 1000,
                s.rows,
                s.error,
            )
            for s in reversed(metrics.slow_statements())
        )
        counters = dict(metrics.counters)
        health = health_score(
            actions=counters["actions"],
            errors=counters["errors"],
            media_loads=metrics.actions_by_kind.get("load_media", 0),
            fallbacks=counters["fallbacks"],
            p95_s=metrics.latency("load_media").p95,
            p95_target_s=settings.p95_target_s,
            cache_hits=thumbnails.hits if thumbnails else 0,
            cache_lookups=thumbnails.hits + thumbnails.misses if thumbnails else 0,
        )
        return Figures(
            taken_at=time.time(),
            settings=settings,
            last_action=last_action,
            actions=tuple(a.summary for a in analyses),
            statements=tuple(rows[: settings.max_statement_rows]),
            statements_truncated=truncated,
            n_plus_one=tuple(w for a in analyses for w in a.n_plus_one),
            latency=LatencyFigures(
                window=metrics.window,
                rows=tuple(latency_rows),
                recent_ms=recent,
                slow_threshold_ms=threshold_s * 1000,
            ),
            slow=SlowFigures(threshold_s * 1000, metrics.slow_limit, slow_rows),
            thumbnails=thumbnails,
            resilience=ResilienceFigures(
                actions=counters["actions"],
                statements=counters["statements"],
                fallbacks=counters["fallbacks"],
                retries=counters["retries"],
                errors=counters["errors"],
                last_error=metrics.last_error,
            ),
            health=health,
            server=server,
        )


def collect(
    metrics: QueryMetrics,
    *,
    thumbnails: ThumbnailFigures | None = None,
    server: ServerReport | None = None,
    settings: PanelSettings | None = None,
    reference_of: Callable[[int], str | None] | None = None,
) -> Figures:
    """Every figure of the panel, once (the panel keeps a Collector instead)."""
    return Collector(metrics, settings).collect(
        thumbnails=thumbnails, server=server, reference_of=reference_of
    )


# --- JSON ---------------------------------------------------------------------------------------


class SnapshotError(ValueError):
    """A JSON document that is not a performance snapshot this version can read."""


def snapshot(figures: Figures) -> dict[str, Any]:
    """Every figure as JSON-serialisable data (json.dumps takes it as it is)."""
    return {"format": SNAPSHOT_FORMAT, "version": SNAPSHOT_VERSION, **_to_json(figures)}


def load(data: Mapping[str, Any]) -> Figures:
    """The Figures a snapshot() was made of."""
    if data.get("format") != SNAPSHOT_FORMAT or data.get("version") != SNAPSHOT_VERSION:
        raise SnapshotError(
            f"not a performance snapshot of version {SNAPSHOT_VERSION}: "
            f"format={data.get('format')!r} version={data.get('version')!r}"
        )
    body = {k: v for k, v in data.items() if k not in ("format", "version")}
    try:
        figures = _from_json(Figures, body)
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"malformed performance snapshot: {exc!r}") from exc
    assert isinstance(figures, Figures)
    return figures


def _to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    return value


def _from_json(tp: Any, data: Any) -> Any:
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(tp) if a is not type(None)]
        if data is None:
            return None
        if len(args) != 1:
            raise TypeError(f"cannot read {tp}")
        return _from_json(args[0], data)
    if origin is tuple:
        item = get_args(tp)[0]
        if not isinstance(data, list):
            raise TypeError(f"expected a list for {tp}, got {type(data).__name__}")
        return tuple(_from_json(item, v) for v in data)
    if origin is dict:
        _, item = get_args(tp)
        if not isinstance(data, dict):
            raise TypeError(f"expected an object for {tp}, got {type(data).__name__}")
        return {str(k): _from_json(item, v) for k, v in data.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise TypeError(f"expected an object for {tp.__name__}, got {type(data).__name__}")
        hints = get_type_hints(tp)
        return tp(
            **{
                f.name: _from_json(hints[f.name], data[f.name])
                for f in dataclasses.fields(tp)
                if f.init
            }
        )
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise TypeError(f"expected a number, got {data!r}")
        return float(data)
    if tp is int or tp is str or tp is bool:
        if type(data) is not tp:
            raise TypeError(f"expected {tp.__name__}, got {data!r}")
        return data
    raise TypeError(f"cannot read {tp}")


# --- the server's side ----------------------------------------------------------------------------


class ServerFeatureMissing(Exception):
    """A server-side view this server cannot give; the message says why and what to do."""


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return mask_password(lines[0]) if lines else type(orig).__name__


async def _section(conn: AsyncConnection, work: Awaitable[T]) -> tuple[T | None, str | None]:
    try:
        return await work, None
    except ServerFeatureMissing as exc:
        return None, str(exc)
    except sa_exc.SQLAlchemyError as exc:
        # Outside autocommit a failed statement aborts the transaction: the next part needs a
        # fresh one.
        if conn.in_transaction():
            await conn.rollback()
        return None, _reason(exc)


async def function_performance(
    conn: AsyncConnection, hours: int = 24
) -> tuple[QueryPerformance, ...]:
    """analyze_query_performance() of the batch function (the one function that logs itself)."""
    row = await conn.run_sync(lambda sync: analyze_query_performance(sync, BATCH_FUNCTION, hours))
    return (row,)


async def index_usage(conn: AsyncConnection) -> tuple[IndexUsage, ...]:
    return tuple(await conn.run_sync(verify_index_usage))


async def explain_batch_query(
    conn: AsyncConnection, inspection_id: int, inspection: str = ""
) -> ExplainFigures:
    """EXPLAIN (ANALYZE, BUFFERS) of the batch function's query for one inspection."""
    result = await conn.execute(
        text("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + BATCH_QUERY_SQL),
        {"inspection_id": inspection_id},
    )
    document = result.scalar_one()
    top = document[0] if isinstance(document, list) else document
    plan = top["Plan"]
    return ExplainFigures(
        inspection_id=inspection_id,
        inspection=inspection or str(inspection_id),
        plan=render_plan(top),
        indexes=plan_indexes(plan),
        planning_ms=float(top.get("Planning Time", 0.0)),
        execution_ms=float(top.get("Execution Time", 0.0)),
        shared_hit=int(plan.get("Shared Hit Blocks", 0)),
        shared_read=int(plan.get("Shared Read Blocks", 0)),
    )


def _plan_nodes(node: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


def plan_indexes(plan: Mapping[str, Any]) -> tuple[str, ...]:
    """Index names an EXPLAIN (FORMAT JSON) plan scans, in plan order, each once."""
    names = [n["Index Name"] for n in _plan_nodes(plan) if "Index Name" in n]
    return tuple(dict.fromkeys(names))


_PLAN_DETAILS = (
    "Hash Cond",
    "Merge Cond",
    "Join Filter",
    "Index Cond",
    "Recheck Cond",
    "Filter",
    "Rows Removed by Filter",
    "Rows Removed by Index Recheck",
    "Heap Fetches",
)


def _count(value: Any) -> str:
    # PostgreSQL 18 reports actual rows as averages per loop, with decimals.
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}"
    return str(int(value))


def render_plan(document: Mapping[str, Any]) -> str:
    """An EXPLAIN (FORMAT JSON) document laid out like PostgreSQL's text format."""
    lines: list[str] = []

    def node(n: Mapping[str, Any], depth: int) -> None:
        head = str(n.get("Node Type", "?"))
        if n.get("Parallel Aware"):
            head = f"Parallel {head}"
        if "Index Name" in n:
            # As EXPLAIN's text says it: a bitmap index scan is "on" its index.
            on_index = n.get("Node Type") == "Bitmap Index Scan"
            head += f" {'on' if on_index else 'using'} {n['Index Name']}"
        if "Relation Name" in n:
            head += f" on {n['Relation Name']}"
            alias = n.get("Alias")
            if alias and alias != n["Relation Name"]:
                head += f" {alias}"
        if "Total Cost" in n:
            head += (
                f"  (cost={n.get('Startup Cost', 0):.2f}..{n['Total Cost']:.2f}"
                f" rows={n.get('Plan Rows', 0)} width={n.get('Plan Width', 0)})"
            )
        if "Actual Total Time" in n:
            head += (
                f" (actual time={n.get('Actual Startup Time', 0):.3f}..{n['Actual Total Time']:.3f}"
                f" rows={_count(n.get('Actual Rows', 0))} loops={_count(n.get('Actual Loops', 1))})"
            )
        if depth == 0:
            lines.append(head)
            indent = " " * 2
        else:
            lines.append(" " * (6 * depth - 4) + "->  " + head)
            indent = " " * (6 * depth + 2)
        if "Sort Key" in n:
            lines.append(f"{indent}Sort Key: {', '.join(n['Sort Key'])}")
        if "Sort Method" in n:
            space = f"  {n.get('Sort Space Type', 'Memory')}: {n.get('Sort Space Used', 0)}kB"
            lines.append(f"{indent}Sort Method: {n['Sort Method']}{space}")
        for key in _PLAN_DETAILS:
            if key in n and n[key] not in (None, 0):
                lines.append(f"{indent}{key}: {n[key]}")
        buffers = [
            f"{name}={n[key]}"
            for key, name in (
                ("Shared Hit Blocks", "hit"),
                ("Shared Read Blocks", "read"),
                ("Shared Dirtied Blocks", "dirtied"),
            )
            if n.get(key)
        ]
        if buffers:
            lines.append(f"{indent}Buffers: shared {' '.join(buffers)}")
        for child in n.get("Plans", ()):
            node(child, depth + 1)

    node(document["Plan"], 0)
    if "Planning Time" in document:
        lines.append(f"Planning Time: {document['Planning Time']:.3f} ms")
    if "Execution Time" in document:
        lines.append(f"Execution Time: {document['Execution Time']:.3f} ms")
    return "\n".join(lines)


async def top_statements(conn: AsyncConnection, limit: int = 10) -> tuple[TopStatement, ...]:
    """pg_stat_statements' statements on our tables in this database, by total time."""
    schema = (
        await conn.execute(
            text(
                "SELECT extnamespace::regnamespace::text FROM pg_extension"
                " WHERE extname = 'pg_stat_statements'"
            )
        )
    ).scalar_one_or_none()
    if schema is None:
        raise ServerFeatureMissing(
            "pg_stat_statements is not installed in this database: a superuser can run "
            "CREATE EXTENSION pg_stat_statements (the server also needs it in "
            "shared_preload_libraries)."
        )
    view = conn.dialect.identifier_preparer.quote(schema) + ".pg_stat_statements"
    try:
        result = await conn.execute(
            text(
                "SELECT query, calls, total_exec_time, mean_exec_time, rows,"
                " shared_blks_hit, shared_blks_read"
                f" FROM {view}"
                " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND query ~* :ours AND query ~* :dml AND query !~* 'pg_stat_statements'"
                " ORDER BY total_exec_time DESC LIMIT :limit"
            ),
            {"ours": OUR_STATEMENTS_PATTERN, "dml": DML_PATTERN, "limit": limit},
        )
    except sa_exc.DBAPIError as exc:
        if conn.in_transaction():
            await conn.rollback()
        raise ServerFeatureMissing(
            f"pg_stat_statements is installed but cannot be read: {_reason(exc)}"
        ) from exc
    return tuple(
        TopStatement(
            query=_WHITESPACE.sub(" ", r.query).strip(),
            calls=int(r.calls),
            total_ms=float(r.total_exec_time),
            mean_ms=float(r.mean_exec_time),
            rows=int(r.rows),
            shared_hit=int(r.shared_blks_hit),
            shared_read=int(r.shared_blks_read),
        )
        for r in result
    )


async def server_report(
    conn: AsyncConnection,
    metrics: QueryMetrics,
    *,
    inspection_id: int | None = None,
    inspection: str = "",
    hours: int = 24,
    top: int = 10,
) -> ServerReport:
    """Every server-side view, in a metrics scope of its own that counts for nothing."""
    if conn.dialect.name != "postgresql":
        return ServerReport.unavailable(OFFLINE_MESSAGE)
    started = time.perf_counter()
    with metrics.action(DIAGNOSTICS_KIND, counted=False) as scope:
        functions, functions_error = await _section(conn, function_performance(conn, hours))
        indexes, indexes_error = await _section(conn, index_usage(conn))
        explain: ExplainFigures | None = None
        explain_error: str | None = "Select an inspection to explain its batch query."
        if inspection_id is not None:
            explain, explain_error = await _section(
                conn, explain_batch_query(conn, inspection_id, inspection)
            )
        statements, top_error = await _section(conn, top_statements(conn, top))
    return ServerReport(
        available=True,
        taken_at=time.time(),
        functions=functions or (),
        functions_error=functions_error,
        indexes=indexes or (),
        indexes_error=indexes_error,
        explain=explain,
        explain_error=explain_error,
        top=statements or (),
        top_error=top_error,
        statements=len(scope.statements),
        duration_ms=(time.perf_counter() - started) * 1000,
    )


async def engine_server_report(
    engine: AsyncEngine,
    metrics: QueryMetrics,
    *,
    inspection_id: int | None = None,
    inspection: str = "",
) -> ServerReport:
    """server_report() on a connection of `engine`; a server that cannot be reached becomes a
    report saying so, and an offline (SQLite) engine is never asked anything."""
    if engine.dialect.name != "postgresql":
        return ServerReport.unavailable(OFFLINE_MESSAGE)
    try:
        # The scope also holds whatever connecting runs, so none of it counts as a user action.
        with metrics.action(DIAGNOSTICS_KIND, counted=False):
            async with engine.connect() as conn:
                return await server_report(
                    conn, metrics, inspection_id=inspection_id, inspection=inspection
                )
    except (sa_exc.SQLAlchemyError, OSError) as exc:
        return ServerReport.unavailable(f"The database server could not be asked: {_reason(exc)}")
