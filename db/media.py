"""Loading an inspection's checklist and media: one statement each, and the per-item fallback."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from itertools import groupby
from operator import attrgetter
from typing import Any

import psycopg
from sqlalchemy import DateTime, Select, TextClause, TextualSelect, func, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

from db.metrics import record_statement
from db.models import ChecklistItem, Media
from db.performance import BATCH_FUNCTION, BATCH_QUERY_SQL, STREAM_FUNCTION
from db.records import ChecklistEntry, InspectionMedia, ItemMedia, MediaItem

_new_tuple = tuple.__new__
_checklist_item_id = attrgetter("checklist_item_id")

# In MediaItem's field order, so a row becomes a MediaItem without unpacking.
_MEDIA_COLUMNS = (
    "media_id, checklist_item_id, storage_key, mime_type, width, height, "
    "byte_size, sha256, caption, captured_at, item_position"
)
# The whole inspection in one round trip, through the server function (migrations 0002, 0003).
BATCH_STATEMENT = text(
    f"SELECT {_MEDIA_COLUMNS} FROM {BATCH_FUNCTION}(CAST(:inspection_id AS bigint))"
)
# Offline bundles are SQLite, which has no server functions: there the function's own query
# (FROM to ORDER BY taken verbatim from BATCH_QUERY_SQL), selecting MediaItem's columns in
# order. SQLite keeps timestamps as text; typing captured_at parses it back timezone-aware.
SQLITE_BATCH_STATEMENT = text(
    "SELECT m.id AS media_id, m.checklist_item_id, m.storage_key, m.mime_type, m.width,"
    " m.height, m.byte_size, m.sha256, m.caption, m.captured_at, ci.position AS item_position"
    + BATCH_QUERY_SQL[BATCH_QUERY_SQL.index("\n  FROM ") :]
).columns(captured_at=DateTime(timezone=True))


# The same rows through the stream function (revision 0006), for psycopg itself, streamed in
# chunks (libpq's chunked-rows mode). The server sends the first rows at once: the batch
# function, PL/pgSQL, would hold them until it had all of them (20,000 photos: the first row
# after 29 ms instead of 1.4 ms). That function logs its calls; this one cannot.
STREAM_SQL = f"SELECT {_MEDIA_COLUMNS} FROM {STREAM_FUNCTION}(CAST(%s AS bigint))"
# Rows per chunk: parsing one takes about a millisecond, so the loop (the GUI thread) gets a
# turn that often while a 20,000-photo inspection arrives.
STREAM_CHUNK_ROWS = 500
# The first chunk is one screenful of the densest grid (about 60 cells at 96 px), so the first
# photos are shown before the next 500 rows have been parsed.
STREAM_FIRST_CHUNK_ROWS = 100

# (rows already delivered before these in this attempt, the new rows); a retry starts at 0.
RowsCallback = Callable[[int, tuple[MediaItem, ...]], None]


def batch_statement(conn: AsyncConnection) -> TextClause | TextualSelect:
    """The one statement that loads an inspection's media, in the connection's SQL dialect."""
    return SQLITE_BATCH_STATEMENT if conn.dialect.name == "sqlite" else BATCH_STATEMENT


def group_media(inspection_id: int, rows: Iterable[Any]) -> InspectionMedia:
    """Rows in MediaItem's column order, each item's rows in capture order -> one group per
    checklist item, the groups in display order (position, then item id).

    Grouped by item id, not by adjacency: rows of one item that arrive apart (items sharing a
    position, from a server still on revision 0002's order, which did not break that tie) join
    their item's group instead of splitting it. Runs once per photo on every load: the records
    are built and the runs split in C (tuple.__new__, groupby), where MediaItem._make is a
    Python call per row; the Python below runs once per run, normally once per item."""
    return group_items(inspection_id, [_new_tuple(MediaItem, row) for row in rows])


def group_items(inspection_id: int, items: Sequence[MediaItem]) -> InspectionMedia:
    """group_media for rows that are MediaItems already."""
    grouper = MediaGrouper()
    grouper.add(items)
    return grouper.result(inspection_id)


class MediaGrouper:
    """group_items in steps: rows are added as they arrive, each step costing only its rows,
    and the groups are made at the end, one per checklist item. A streamed load of 20,000
    photos grouped them all at once after its last row: 5.5 ms in that one turn of the loop."""

    def __init__(self) -> None:
        self._runs: dict[int, list[MediaItem]] = {}

    def add(self, items: Iterable[MediaItem]) -> None:
        runs = self._runs
        for item_id, run in groupby(items, _checklist_item_id):
            if item_id in runs:
                runs[item_id].extend(run)
            else:
                runs[item_id] = list(run)

    def result(self, inspection_id: int) -> InspectionMedia:
        groups = sorted(
            (
                ItemMedia(item_id, media[0].item_position, tuple(media))
                for item_id, media in self._runs.items()
            ),
            key=_display_order,
        )
        return InspectionMedia(inspection_id=inspection_id, items=tuple(groups))


def _display_order(group: ItemMedia) -> tuple[int, int]:
    return group.position, group.checklist_item_id


async def load_inspection_media(conn: AsyncConnection, inspection_id: int) -> InspectionMedia:
    """All live media of an inspection in ONE statement (the batch function, or on SQLite its
    query)."""
    result = await conn.execute(batch_statement(conn), {"inspection_id": inspection_id})
    # On PostgreSQL, the driver's own tuples straight from the DBAPI cursor (psycopg already
    # returns Python types and the async adapter has buffered them): building 1,100 SQLAlchemy
    # Row objects only to unpack them again was a fifth of the app's overhead over a bare
    # psycopg fetch. The statement still went through the engine, so accounting saw it.
    # SQLite needs SQLAlchemy's result processing (timestamps are stored as text there).
    raw = conn.dialect.name == "postgresql" and result.cursor is not None
    try:
        rows = result.cursor.fetchall() if raw else result.all()
    finally:
        result.close()
    return group_media(inspection_id, rows)


async def stream_inspection_media(
    conn: AsyncConnection,
    inspection_id: int,
    on_rows: RowsCallback,
    chunk_rows: int = STREAM_CHUNK_ROWS,
    first_chunk_rows: int = STREAM_FIRST_CHUNK_ROWS,
) -> InspectionMedia:
    """The inspection's media through the stream function, handed to `on_rows` chunk by chunk
    as they arrive.

    Still ONE statement (no server-side cursor): the server sends rows as it reads them,
    psycopg streams the result in chunks, and between chunks the event loop runs, so a huge
    inspection neither freezes the window nor waits for its last row before the first ones
    are shown (the first chunk is smaller: a screenful). The statement is counted as the
    engine's own would be. On SQLite (bundles, local files) the whole result comes at once.
    """
    if conn.dialect.name != "postgresql":
        media = await load_inspection_media(conn, inspection_id)
        on_rows(0, media.all_media())
        return media
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, psycopg.AsyncConnection)
    params = (inspection_id,)
    grouper = MediaGrouper()
    delivered = 0
    started = time.perf_counter()
    try:
        async with driver.cursor() as cursor:
            chunk: list[MediaItem] = []
            wanted = min(first_chunk_rows, chunk_rows)
            # libpq hands rows over in chunks of this size; the first is a screenful.
            async for row in cursor.stream(STREAM_SQL, params, size=wanted):
                chunk.append(_new_tuple(MediaItem, row))
                if len(chunk) == wanted:
                    on_rows(delivered, tuple(chunk))
                    grouper.add(chunk)
                    delivered += len(chunk)
                    chunk = []
                    wanted = chunk_rows
            if chunk or not delivered:
                on_rows(delivered, tuple(chunk))
                grouper.add(chunk)
                delivered += len(chunk)
    except psycopg.Error as exc:
        record_statement(STREAM_SQL, params, time.perf_counter() - started, 0, _first_line(exc))
        lost = driver.closed or isinstance(exc, psycopg.OperationalError)
        if lost:
            await conn.invalidate()  # never hand a broken connection back to the pool
        raise sa_exc.DBAPIError.instance(
            STREAM_SQL, params, exc, psycopg.Error, connection_invalidated=lost
        ) from exc
    record_statement(STREAM_SQL, params, time.perf_counter() - started, delivered)
    return grouper.result(inspection_id)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _item_media_stmt(checklist_item_id: int) -> Select[*tuple[Any, ...]]:
    return (
        select(
            Media.id,
            Media.checklist_item_id,
            Media.storage_key,
            Media.mime_type,
            Media.width,
            Media.height,
            Media.byte_size,
            Media.sha256,
            Media.caption,
            Media.captured_at,
            ChecklistItem.position,
        )
        .join(ChecklistItem, ChecklistItem.id == Media.checklist_item_id)
        .where(Media.checklist_item_id == checklist_item_id, Media.deleted_at.is_(None))
        .order_by(Media.captured_at, Media.id)
    )


async def load_checklist_item_media(
    conn: AsyncConnection, checklist_item_id: int
) -> tuple[MediaItem, ...]:
    """The media of one checklist item: the fallback path's per-item statement."""
    result = await conn.execute(_item_media_stmt(checklist_item_id))
    return tuple(MediaItem._make(r) for r in result.all())


async def load_media_per_item(
    conn: AsyncConnection, inspection_id: int, checklist: Sequence[ChecklistEntry]
) -> InspectionMedia:
    """The fallback: one statement per checklist item (the N+1 shape, used only when the batch
    function is missing or refused). Returns exactly what the batch path returns."""
    groups = []
    # The batch's order: position, then the item id for items that share a position.
    for entry in sorted(checklist, key=lambda e: (e.position, e.id)):
        media = await load_checklist_item_media(conn, entry.id)
        if media:
            groups.append(ItemMedia(entry.id, entry.position, media))
    return InspectionMedia(inspection_id=inspection_id, items=tuple(groups))


async def load_checklist(conn: AsyncConnection, inspection_id: int) -> tuple[ChecklistEntry, ...]:
    """Checklist items in display order with their live media counts, in ONE statement."""
    counts = (
        select(Media.checklist_item_id, func.count().label("n"))
        .where(Media.inspection_id == inspection_id, Media.deleted_at.is_(None))
        .group_by(Media.checklist_item_id)
        .subquery()
    )
    stmt = (
        select(
            ChecklistItem.id,
            ChecklistItem.inspection_id,
            ChecklistItem.section,
            ChecklistItem.position,
            ChecklistItem.title,
            ChecklistItem.result,
            ChecklistItem.notes,
            func.coalesce(counts.c.n, 0),
        )
        .outerjoin(counts, counts.c.checklist_item_id == ChecklistItem.id)
        .where(ChecklistItem.inspection_id == inspection_id)
        .order_by(ChecklistItem.position, ChecklistItem.id)
    )
    result = await conn.execute(stmt)
    return tuple(ChecklistEntry(*row) for row in result.all())
