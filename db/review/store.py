"""Where a window's review records go: the database, or an opened bundle's journal. One seam.

Each call is one user action in the metrics (load_review, record_review, review_history) with
its statements counted, whether they went through the engine or to the journal's SQLite file.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from db.metrics import QueryMetrics, record_statement
from db.offline.journal import HISTORY_SQL, STATE_SQL, ReviewJournal
from db.review.queries import (
    append_review,
    load_history,
    load_review_state,
    record_of,
    state_of,
)
from db.review.records import ReviewKind, ReviewRecord, ReviewState, check_record

T = TypeVar("T")


class ReviewStore(ABC):
    """Reads and appends review records for one DataSource."""

    #: What records written here say about where they were made.
    origin = "online"

    @abstractmethod
    async def load(self, inspection_id: int, metrics: QueryMetrics) -> ReviewState:
        """An inspection's review state (one statement)."""

    @abstractmethod
    async def record(self, record: ReviewRecord, metrics: QueryMetrics) -> None:
        """Append one record (KnownError if it cannot be written)."""

    @abstractmethod
    async def history(
        self, inspection_id: int, kind: ReviewKind, target: int | None, metrics: QueryMetrics
    ) -> tuple[ReviewRecord, ...]:
        """Every record on one target, oldest first."""

    async def waiting(self) -> int | None:
        """Records written here that wait to be synced (None: nothing ever waits)."""
        return None


class DatabaseReviews(ReviewStore):
    """Records straight into the database's review_records."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def load(self, inspection_id: int, metrics: QueryMetrics) -> ReviewState:
        with metrics.action("load_review", inspection=inspection_id) as scope:
            async with self.engine.connect() as conn:
                state = await load_review_state(conn, inspection_id)
            scope.rows = len(state.items) + len(state.photos) + (1 if state.decision else 0)
        return state

    async def record(self, record: ReviewRecord, metrics: QueryMetrics) -> None:
        with metrics.action("record_review", inspection=record.inspection_id):
            async with self.engine.connect() as conn:
                await append_review(conn, record)

    async def history(
        self, inspection_id: int, kind: ReviewKind, target: int | None, metrics: QueryMetrics
    ) -> tuple[ReviewRecord, ...]:
        with metrics.action("review_history", inspection=inspection_id):
            async with self.engine.connect() as conn:
                return await load_history(conn, inspection_id, kind, target)


class JournalReviews(ReviewStore):
    """Records into an opened bundle's journal (the bundle itself stays read-only)."""

    origin = "bundle"

    def __init__(self, journal: ReviewJournal) -> None:
        self.journal = journal

    async def load(self, inspection_id: int, metrics: QueryMetrics) -> ReviewState:
        with metrics.action("load_review", inspection=inspection_id) as scope:
            rows = await _counted(
                STATE_SQL, (inspection_id,), lambda: self.journal.state_rows(inspection_id)
            )
            scope.rows = len(rows)
        return state_of(inspection_id, rows)

    async def record(self, record: ReviewRecord, metrics: QueryMetrics) -> None:
        check_record(record)
        values = (
            record.id,
            str(record.kind),
            record.inspection_id,
            record.checklist_item_id,
            record.media_id,
            record.value,
            record.comment,
            record.reviewer,
            record.created_at,
        )
        with metrics.action("record_review", inspection=record.inspection_id):
            await _counted("INSERT INTO records", values, lambda: self.journal.append(values))

    async def history(
        self, inspection_id: int, kind: ReviewKind, target: int | None, metrics: QueryMetrics
    ) -> tuple[ReviewRecord, ...]:
        with metrics.action("review_history", inspection=inspection_id):
            rows = await _counted(
                HISTORY_SQL,
                (inspection_id, kind, target),
                lambda: self.journal.history_rows(inspection_id, kind, target),
            )
        return tuple(record_of(row) for row in rows)

    async def waiting(self) -> int | None:
        return await asyncio.to_thread(self.journal.pending)


async def _counted(sql: str, params: Any, work: Callable[[], T]) -> T:
    """Run one journal statement off the loop's thread and count it as the engine would."""
    started = time.perf_counter()
    try:
        result = await asyncio.to_thread(work)
    except Exception as exc:
        record_statement(sql, params, time.perf_counter() - started, 0, str(exc) or "failed")
        raise
    rows = len(result) if isinstance(result, list) else 1
    record_statement(sql, params, time.perf_counter() - started, rows)
    return result
