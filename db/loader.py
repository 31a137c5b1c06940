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
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from cachetools import LRUCache
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.errors import KnownError
from db.media import (
    RowsCallback,
    load_checklist,
    load_inspection_media,
    load_media_per_item,
    stream_inspection_media,
)
from db.metrics import ActionScope, QueryMetrics
from db.records import ChecklistEntry, InspectionMedia
from db.retry import (
    Failure,
    RetryPolicy,
    classify,
    is_outside_failure,
    reason_of,
    stale_pooled_connection,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# After the batch path failed for good, try it again only after this long (or on refresh).
BATCH_RECHECK_S = 300.0


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

    async def load_media(
        self,
        inspection_id: int,
        *,
        refresh: bool = False,
        on_rows: RowsCallback | None = None,
    ) -> LoadResult:
        """All live media of an inspection; cached, shared with concurrent callers, retried.

        With `on_rows`, the rows are also handed over chunk by chunk while they arrive (the
        window shows the first photos of a huge inspection before the last row is in); a
        caller that shares another's load, or gets it from the cache, sees only the result."""
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
            entry = _InFlight(asyncio.ensure_future(self._load_media(inspection_id, on_rows)))
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

    async def _load_media(self, inspection_id: int, on_rows: RowsCallback | None) -> LoadResult:
        self.stats.loads += 1
        started = time.perf_counter()
        with self.metrics.action("load_media", inspection=inspection_id) as scope:
            media = await self._with_retries(
                scope,
                inspection_id,
                lambda conn: self._media_once(conn, inspection_id, scope, on_rows),
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
        self,
        conn: AsyncConnection,
        inspection_id: int,
        scope: ActionScope,
        on_rows: RowsCallback | None,
    ) -> InspectionMedia:
        if self.batch_available:
            try:
                media = (
                    await load_inspection_media(conn, inspection_id)
                    if on_rows is None
                    else await stream_inspection_media(conn, inspection_id, on_rows)
                )
            except sa_exc.DBAPIError as exc:
                if classify(exc) is not Failure.FALLBACK:
                    raise
                self._batch_refused_at = time.monotonic()
                reason = reason_of(exc)
                log.warning("batch media query refused (%s); using per-item queries", reason)
                scope.last_error = f"batch query refused: {reason}"
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
        media = await load_media_per_item(conn, inspection_id, checklist)
        if on_rows is not None:
            on_rows(0, media.all_media())
        return media

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
                if not is_outside_failure(exc):
                    raise  # a bug: the caller logs it with its traceback
                kind = classify(exc)
                delay = next(delays, None) if kind is Failure.TRANSIENT else None
                if delay is not None and stale_pooled_connection(exc) and scope.retries == 0:
                    delay = 0.0  # a pooled connection died while idle: a fresh one will do
                if delay is None:
                    self.stats.failures += 1
                    attempts = scope.retries + 1
                    raise MediaLoadError(
                        inspection_id,
                        f"Loading inspection {inspection_id} failed"
                        + (f" after {attempts} attempts" if attempts > 1 else "")
                        + f": {reason_of(exc)}",
                        transient=kind is Failure.TRANSIENT,
                    ) from exc
                scope.retries += 1
                scope.errors += 1
                scope.last_error = reason_of(exc)
                self.stats.retries += 1
                log.info(
                    "load of inspection %s failed (%s); retry in %.0f ms",
                    inspection_id,
                    scope.last_error,
                    delay * 1000,
                )
                await asyncio.sleep(delay)
