"""The media loader service: one batch query per inspection, in the background, and resilient.

Runs on whatever asyncio loop is current (the qasync loop in the app, a plain loop in the CLI
benchmark and the tests); it imports no Qt. Policy in one place:

- in-flight requests for one inspection share one query; recent results are kept in a small
  LRU cache (an explicit refresh bypasses it);
- transient failures (connection lost, server restarting, statement timeout, serialization
  failure) are retried with exponential backoff and jitter;
- a batch statement the server refuses for good (function missing on an older schema, no
  permission) switches the load to the per-item fallback, and that is recorded;
- whatever finally fails becomes a MediaLoadError: a message for the UI, never a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

import psycopg
from cachetools import LRUCache
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.config import mask_password
from db.errors import KnownError
from db.media import load_checklist, load_inspection_media, load_media_per_item
from db.metrics import ActionScope, QueryMetrics
from db.records import ChecklistEntry, InspectionMedia

log = logging.getLogger(__name__)

T = TypeVar("T")

# SQLSTATEs worth another try: the same statement may well succeed in a moment.
TRANSIENT_SQLSTATES = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "55P03",  # lock_not_available
        "57014",  # query_canceled: our statement timeout
        "57P01",  # admin_shutdown: pg_terminate_backend, server stopping
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now: server starting or restarting
        "53300",  # too_many_connections
        "08000",
        "08001",
        "08003",
        "08004",
        "08006",  # connection exceptions
    }
)
# SQLSTATEs that mean "this server will not run the batch statement": use the fallback.
FALLBACK_SQLSTATES = frozenset(
    {
        "42883",  # undefined_function: database below migration 0002
        "42501",  # insufficient_privilege
        "42P01",  # undefined_table (the function's log table missing)
    }
)
# After the batch path failed for good, try it again only after this long (or on refresh).
BATCH_RECHECK_S = 300.0


class Failure(Enum):
    TRANSIENT = "transient"
    FALLBACK = "fallback"
    FATAL = "fatal"


def classify(exc: BaseException) -> Failure:
    """Decide what an exception from a load means for the next step."""
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return Failure.TRANSIENT
        orig = exc.orig
        sqlstate = getattr(orig, "sqlstate", None)
        if sqlstate in TRANSIENT_SQLSTATES:
            return Failure.TRANSIENT
        if sqlstate in FALLBACK_SQLSTATES:
            return Failure.FALLBACK
        # No SQLSTATE at all: the connection itself failed (refused, reset, closed).
        if sqlstate is None and isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError):
            return Failure.TRANSIENT
        return Failure.FATAL
    if isinstance(exc, sa_exc.TimeoutError | TimeoutError | ConnectionError):
        return Failure.TRANSIENT
    return Failure.FATAL


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: by default about 100, 200, 400, 800 ms, then give up."""

    attempts: int = 5
    base_delay_s: float = 0.1
    factor: float = 2.0
    max_delay_s: float = 5.0
    jitter: float = 0.2  # each delay is scaled by a random factor in [1 - j, 1 + j]

    def delays(self, rng: random.Random) -> Iterator[float]:
        for retry in range(self.attempts - 1):
            delay = min(self.base_delay_s * self.factor**retry, self.max_delay_s)
            yield delay * (1 + self.jitter * (2 * rng.random() - 1))


class MediaLoadError(KnownError):
    """A load that failed after its retries; the UI shows the message and offers Retry."""

    def __init__(self, inspection_id: int, message: str, transient: bool) -> None:
        super().__init__(message)
        self.inspection_id = inspection_id
        self.transient = transient


@dataclass(frozen=True)
class LoadResult:
    inspection_id: int
    media: InspectionMedia
    strategy: str  # batch | fallback | cache
    statements: int
    seconds: float
    retries: int


@dataclass
class _InFlight:
    task: asyncio.Task[LoadResult]
    waiters: int = 0


@dataclass
class LoaderStats:
    loads: int = 0
    cache_hits: int = 0
    shared: int = 0
    fallbacks: int = 0
    retries: int = 0
    failures: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def _stale_pooled_connection(exc: BaseException) -> bool:
    return isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return mask_password(lines[0]) if lines else type(orig).__name__


class MediaBatchLoader:
    """Loads checklists and media of inspections for the UI, one batch statement per load."""

    def __init__(
        self,
        engine: AsyncEngine,
        metrics: QueryMetrics,
        *,
        policy: RetryPolicy | None = None,
        cache_size: int = 16,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.metrics = metrics
        self.policy = policy or RetryPolicy()
        self._rng = rng or random.Random()
        self._media: LRUCache[int, InspectionMedia] = LRUCache(maxsize=cache_size)
        self._checklists: LRUCache[int, tuple[ChecklistEntry, ...]] = LRUCache(maxsize=cache_size)
        self._inflight: dict[int, _InFlight] = {}
        self._batch_refused_at: float | None = None
        self.stats = LoaderStats()

    # --- public API --------------------------------------------------------------------------

    async def load_media(self, inspection_id: int, *, refresh: bool = False) -> LoadResult:
        """All live media of an inspection; cached, shared with concurrent callers, retried."""
        if refresh:
            self._media.pop(inspection_id, None)
            self._batch_refused_at = None
        else:
            cached = self._media.get(inspection_id)
            if cached is not None:
                self.stats.cache_hits += 1
                return LoadResult(inspection_id, cached, "cache", 0, 0.0, 0)
        entry = self._inflight.get(inspection_id)
        if entry is None:
            entry = _InFlight(asyncio.ensure_future(self._load_media(inspection_id)))
            self._inflight[inspection_id] = entry
            entry.task.add_done_callback(lambda _t: self._inflight.pop(inspection_id, None))
        else:
            self.stats.shared += 1
        entry.waiters += 1
        try:
            # shield: one caller giving up must not cancel the query another caller awaits.
            return await asyncio.shield(entry.task)
        finally:
            entry.waiters -= 1
            if entry.waiters == 0 and not entry.task.done():
                entry.task.cancel()  # nobody wants it any more

    async def load_checklist(
        self, inspection_id: int, *, refresh: bool = False
    ) -> tuple[ChecklistEntry, ...]:
        """The checklist with media counts, in one statement, with the same retry policy."""
        if not refresh:
            cached = self._checklists.get(inspection_id)
            if cached is not None:
                return cached
        with self.metrics.action("load_checklist", inspection=inspection_id) as scope:
            checklist = await self._with_retries(
                scope, inspection_id, lambda conn: load_checklist(conn, inspection_id)
            )
            scope.rows = len(checklist)
        self._checklists[inspection_id] = checklist
        return checklist

    def invalidate(self, inspection_id: int | None = None) -> None:
        if inspection_id is None:
            self._media.clear()
            self._checklists.clear()
        else:
            self._media.pop(inspection_id, None)
            self._checklists.pop(inspection_id, None)

    def cached(
        self, inspection_id: int
    ) -> tuple[tuple[ChecklistEntry, ...], InspectionMedia] | None:
        """Checklist and media if both are in the cache (no I/O, no await)."""
        checklist = self._checklists.get(inspection_id)
        media = self._media.get(inspection_id)
        if checklist is None or media is None:
            return None
        self.stats.cache_hits += 1
        return checklist, media

    async def aclose(self) -> None:
        """Cancel the loads still in flight and wait for them, before the engine goes."""
        tasks = [entry.task for entry in self._inflight.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def batch_available(self) -> bool:
        return (
            self._batch_refused_at is None
            or time.monotonic() - self._batch_refused_at > BATCH_RECHECK_S
        )

    # --- the work ----------------------------------------------------------------------------

    async def _load_media(self, inspection_id: int) -> LoadResult:
        self.stats.loads += 1
        started = time.perf_counter()
        with self.metrics.action("load_media", inspection=inspection_id) as scope:
            media = await self._with_retries(
                scope, inspection_id, lambda conn: self._media_once(conn, inspection_id, scope)
            )
            scope.rows = media.count
        self._media[inspection_id] = media
        return LoadResult(
            inspection_id,
            media,
            scope.strategy or "batch",
            len(scope.statements),
            time.perf_counter() - started,
            scope.retries,
        )

    async def _media_once(
        self, conn: AsyncConnection, inspection_id: int, scope: ActionScope
    ) -> InspectionMedia:
        if self.batch_available:
            try:
                media = await load_inspection_media(conn, inspection_id)
            except sa_exc.DBAPIError as exc:
                if classify(exc) is not Failure.FALLBACK:
                    raise
                self._batch_refused_at = time.monotonic()
                log.warning("batch media query refused (%s); using per-item queries", _reason(exc))
                scope.last_error = f"batch query refused: {_reason(exc)}"
                await conn.rollback()
            else:
                scope.strategy = "batch"
                return media
        scope.strategy = "fallback"
        self.stats.fallbacks += 1
        checklist = self._checklists.get(inspection_id)
        if checklist is None:
            checklist = await load_checklist(conn, inspection_id)
            self._checklists[inspection_id] = checklist
        return await load_media_per_item(conn, inspection_id, checklist)

    async def _with_retries(
        self,
        scope: ActionScope,
        inspection_id: int,
        work: Callable[[AsyncConnection], Awaitable[T]],
    ) -> T:
        delays = self.policy.delays(self._rng)
        while True:
            try:
                async with self.engine.connect() as conn:
                    return await work(conn)
            except Exception as exc:
                kind = classify(exc)
                delay = next(delays, None) if kind is Failure.TRANSIENT else None
                if delay is not None and _stale_pooled_connection(exc) and scope.retries == 0:
                    delay = 0.0  # a pooled connection died while idle: a fresh one will do
                if delay is None:
                    self.stats.failures += 1
                    attempts = scope.retries + 1
                    raise MediaLoadError(
                        inspection_id,
                        f"Loading inspection {inspection_id} failed"
                        + (f" after {attempts} attempts" if attempts > 1 else "")
                        + f": {_reason(exc)}",
                        transient=kind is Failure.TRANSIENT,
                    ) from exc
                scope.retries += 1
                scope.errors += 1
                scope.last_error = _reason(exc)
                self.stats.retries += 1
                log.info(
                    "load of inspection %s failed (%s); retry in %.0f ms",
                    inspection_id,
                    scope.last_error,
                    delay * 1000,
                )
                await asyncio.sleep(delay)


@dataclass(frozen=True)
class Selection:
    """What the window shows for a selected inspection: its checklist and its media."""

    inspection_id: int
    checklist: tuple[ChecklistEntry, ...]
    media: LoadResult


class SelectionLoader:
    """Latest-wins loading for a selection: only the newest request's result is delivered.

    Selecting another inspection cancels the previous load (unless another caller shares it)
    and a result that still arrives for an inspection no longer selected is dropped. The
    checklist and the media load concurrently, one statement each.
    """

    def __init__(
        self,
        loader: MediaBatchLoader,
        deliver: Callable[[Selection], None],
        fail: Callable[[MediaLoadError], None],
    ) -> None:
        self.loader = loader
        self._deliver = deliver
        self._fail = fail
        self.selected: int | None = None
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def select(self, inspection_id: int | None, *, refresh: bool = False) -> None:
        self.selected = inspection_id
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None
        if inspection_id is None:
            return
        cached = None if refresh else self.loader.cached(inspection_id)
        if cached is not None:
            # Re-selecting a recent inspection: deliver now, not a few event-loop turns (and
            # a repaint or two) later.
            checklist, media = cached
            self._deliver(
                Selection(
                    inspection_id, checklist, LoadResult(inspection_id, media, "cache", 0, 0.0, 0)
                )
            )
            return
        self._task = asyncio.ensure_future(self._run(inspection_id, refresh))

    async def _run(self, inspection_id: int, refresh: bool) -> None:
        failure: MediaLoadError | None = None
        try:
            async with asyncio.TaskGroup() as group:
                checklist = group.create_task(
                    self.loader.load_checklist(inspection_id, refresh=refresh)
                )
                media = group.create_task(self.loader.load_media(inspection_id, refresh=refresh))
        except* MediaLoadError as failures:
            first = failures.exceptions[0]
            assert isinstance(first, MediaLoadError)
            failure = first
        if failure is not None:
            if self.selected == inspection_id:
                self._fail(failure)
            return
        if self.selected != inspection_id:
            self.dropped += 1
            return
        self._deliver(Selection(inspection_id, checklist.result(), media.result()))

    async def wait(self) -> None:
        """For tests and shutdown: until the current load has finished or been cancelled."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def cancel(self) -> None:
        self.select(None)
