"""Exact query accounting: which statements served which user action, and how long they took.

Qt-free. Engine event hooks record every statement into the action scope that is current in the
running task (a ContextVar, so concurrent loads on one event loop never mix their statements).
Recording is a few attribute writes and list appends: microseconds per statement.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event

from db.stats import percentile

DEFAULT_WINDOW = 500
SQL_TEXT_LIMIT = 2000
# A statement this slow is kept in the bounded slow-statement list (the performance panel's).
DEFAULT_SLOW_THRESHOLD_S = 0.5
DEFAULT_SLOW_LIMIT = 100


@dataclass(frozen=True, slots=True)
class StatementRecord:
    sql: str
    parameters: str
    seconds: float
    rows: int
    error: str | None = None


@dataclass(slots=True)
class ActionScope:
    """One user action while it runs (for example load_media inspection=42)."""

    kind: str
    label: str
    started: float
    statements: list[StatementRecord] = field(default_factory=list)
    strategy: str | None = None
    retries: int = 0
    errors: int = 0
    rows: int = 0
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """A finished action, as listeners and the performance panel see it."""

    id: int
    kind: str
    label: str
    seconds: float
    statements: tuple[StatementRecord, ...]
    strategy: str | None
    retries: int
    errors: int
    rows: int
    ok: bool
    error: str | None
    finished_at: float

    @property
    def statement_count(self) -> int:
        return len(self.statements)


@dataclass(frozen=True, slots=True)
class SlowStatement:
    """A statement over the slow threshold, with the action that ran it."""

    action_id: int
    kind: str
    label: str
    sql: str
    parameters: str
    seconds: float
    rows: int
    error: str | None
    finished_at: float  # time.time() of the action's end


@dataclass(frozen=True, slots=True)
class Percentiles:
    count: int
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None


def percentiles(values: Sequence[float]) -> Percentiles:
    ordered = sorted(values)
    return Percentiles(
        count=len(ordered),
        p50=percentile(ordered, 0.50),
        p95=percentile(ordered, 0.95),
        p99=percentile(ordered, 0.99),
        max=float(ordered[-1]) if ordered else None,
    )


Listener = Callable[[ActionRecord], None]
Watcher = Callable[[], None]

_current: contextvars.ContextVar[ActionScope | None] = contextvars.ContextVar(
    "inspection_viewer_action", default=None
)


class QueryMetrics:
    """Per-action statement accounting, rolling latency windows and counters."""

    def __init__(
        self,
        window: int = DEFAULT_WINDOW,
        recent: int = 50,
        *,
        slow_threshold_s: float = DEFAULT_SLOW_THRESHOLD_S,
        slow_limit: int = DEFAULT_SLOW_LIMIT,
    ) -> None:
        self.window = window
        self.slow_threshold_s = slow_threshold_s
        self.slow_limit = slow_limit
        self._lock = threading.Lock()  # listeners and readers may live on another thread
        self._ids = itertools.count(1)
        self._latency: dict[str, deque[float]] = {}
        self._recent: deque[ActionRecord] = deque(maxlen=recent)
        self._listeners: list[Listener] = []
        self._watchers: list[Watcher] = []
        self._slow: deque[SlowStatement] = deque(maxlen=slow_limit)
        self.actions_by_kind: dict[str, int] = {}
        self.counters: dict[str, int] = {
            "actions": 0,
            "statements": 0,
            "fallbacks": 0,
            "retries": 0,
            "errors": 0,
        }
        self.last_error: str | None = None

    # --- scopes ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def action(self, kind: str, *, counted: bool = True, **labels: object) -> Iterator[ActionScope]:
        """Run a user action; every statement executed inside is recorded against it.

        `counted=False` gives a scope of its own whose statements stay in the scope: no
        counters, windows, recent list or listeners (the performance panel's own server
        queries, which must not show up as the user's actions they are there to measure).
        """
        label = f"{kind} " + " ".join(f"{k}={v}" for k, v in labels.items()) if labels else kind
        scope = ActionScope(kind=kind, label=label.strip(), started=time.perf_counter())
        token = _current.set(scope)
        failure: BaseException | None = None
        try:
            yield scope
        except BaseException as exc:
            failure = exc
            raise
        finally:
            _current.reset(token)
            if counted:
                self._finish(scope, failure)

    def _finish(self, scope: ActionScope, failure: BaseException | None) -> None:
        import asyncio

        cancelled = isinstance(failure, asyncio.CancelledError | GeneratorExit)
        error = None if failure is None or cancelled else (str(failure) or type(failure).__name__)
        record = ActionRecord(
            id=next(self._ids),
            kind=scope.kind,
            label=scope.label + (" (cancelled)" if cancelled else ""),
            seconds=time.perf_counter() - scope.started,
            statements=tuple(scope.statements),
            strategy=scope.strategy,
            retries=scope.retries,
            errors=scope.errors + (1 if error else 0),
            rows=scope.rows,
            ok=failure is None,
            error=error or scope.last_error,
            finished_at=time.time(),
        )
        with self._lock:
            self.counters["actions"] += 1
            self.actions_by_kind[record.kind] = self.actions_by_kind.get(record.kind, 0) + 1
            self.counters["statements"] += len(record.statements)
            self.counters["retries"] += record.retries
            self.counters["errors"] += record.errors
            if record.strategy == "fallback":
                self.counters["fallbacks"] += 1
            if record.error:
                self.last_error = record.error
            if record.ok:
                self._latency.setdefault(record.kind, deque(maxlen=self.window)).append(
                    record.seconds
                )
            self._recent.append(record)
            threshold = self.slow_threshold_s
            self._slow.extend(
                SlowStatement(
                    record.id,
                    record.kind,
                    record.label,
                    s.sql,
                    s.parameters,
                    s.seconds,
                    s.rows,
                    s.error,
                    record.finished_at,
                )
                for s in record.statements
                if s.seconds >= threshold
            )
            listeners = list(self._listeners)
            watchers = list(self._watchers)
        for listener in listeners:
            listener(record)
        for watcher in watchers:
            watcher()

    def record_duration(self, kind: str, seconds: float) -> None:
        """A timed operation that is not a database action (thumbnail decodes, for example)."""
        self.record_durations(((kind, seconds),))

    def record_durations(self, timings: Iterable[tuple[str, float]]) -> None:
        """Several at once (a batch of thumbnails): the watchers hear of them once."""
        with self._lock:
            for kind, seconds in timings:
                self._latency.setdefault(kind, deque(maxlen=self.window)).append(seconds)
            watchers = list(self._watchers)
        for watcher in watchers:
            watcher()

    # --- reading -----------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Call `watcher` (no arguments, on the recording thread) after anything changes: an
        action finished, a duration recorded, a reset. Cheap enough to run per statement batch."""
        with self._lock:
            self._watchers.append(watcher)

        def unwatch() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._watchers.remove(watcher)

        return unwatch

    def latency(self, kind: str) -> Percentiles:
        with self._lock:
            values = list(self._latency.get(kind, ()))
        return percentiles(values)

    def samples(self, kind: str) -> list[float]:
        """The rolling window of `kind`, oldest first (for charts)."""
        with self._lock:
            return list(self._latency.get(kind, ()))

    def slow_statements(self) -> list[SlowStatement]:
        """Statements at or over `slow_threshold_s`, oldest first, the newest `slow_limit`."""
        with self._lock:
            return list(self._slow)

    def recent(self) -> list[ActionRecord]:
        with self._lock:
            return list(self._recent)

    def last(self, kind: str | None = None) -> ActionRecord | None:
        with self._lock:
            for record in reversed(self._recent):
                if kind is None or record.kind == kind:
                    return record
        return None

    def reset(self) -> None:
        with self._lock:
            self._latency.clear()
            self._recent.clear()
            self._slow.clear()
            self.actions_by_kind.clear()
            for key in self.counters:
                self.counters[key] = 0
            self.last_error = None
            watchers = list(self._watchers)
        for watcher in watchers:
            watcher()

    # --- engine hooks ------------------------------------------------------------------------

    def instrument(self, engine: Engine) -> None:
        """Count and time every statement of `engine` (pass AsyncEngine.sync_engine)."""
        event.listen(engine, "before_cursor_execute", _before_execute)
        event.listen(engine, "after_cursor_execute", _after_execute)
        event.listen(engine, "handle_error", _on_error)


def current_scope() -> ActionScope | None:
    return _current.get()


def record_statement(
    sql: str, parameters: Any, seconds: float, rows: int, error: str | None = None
) -> None:
    """Count a statement run on the driver connection directly (the streamed batch load),
    which SQLAlchemy's cursor events do not see, exactly as they would have."""
    scope = _current.get()
    if scope is not None:
        scope.statements.append(
            StatementRecord(
                sql=sql[:SQL_TEXT_LIMIT],
                parameters=_params_text(parameters),
                seconds=seconds,
                rows=rows,
                error=error,
            )
        )


_START = "_iv_started"


def _before_execute(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    if _current.get() is not None:
        conn.info[_START] = time.perf_counter()


def _after_execute(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    scope = _current.get()
    if scope is None:
        return
    started = conn.info.pop(_START, None)
    seconds = time.perf_counter() - started if started is not None else 0.0
    rows = cursor.rowcount if cursor.rowcount and cursor.rowcount > 0 else 0
    scope.statements.append(
        StatementRecord(
            sql=statement[:SQL_TEXT_LIMIT],
            parameters=_params_text(parameters),
            seconds=seconds,
            rows=rows,
        )
    )


def _on_error(context: Any) -> None:
    scope = _current.get()
    if scope is None or context.statement is None:
        return
    started = context.connection.info.pop(_START, None) if context.connection else None
    seconds = time.perf_counter() - started if started is not None else 0.0
    reason = str(context.original_exception).strip().splitlines()
    scope.statements.append(
        StatementRecord(
            sql=context.statement[:SQL_TEXT_LIMIT],
            parameters=_params_text(context.parameters),
            seconds=seconds,
            rows=0,
            error=reason[0] if reason else type(context.original_exception).__name__,
        )
    )


def _params_text(parameters: Any) -> str:
    # Kept short: the panel groups "duplicate" statements by SQL and parameters.
    text = repr(parameters)
    return text if len(text) <= 200 else text[:197] + "..."
