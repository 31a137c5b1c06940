"""Review records on the database: an inspection's state in ONE statement, history, appends."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Review
from db.review.records import (
    ReviewEntry,
    ReviewInputError,
    ReviewKind,
    ReviewRecord,
    ReviewState,
    check_record,
)

RECORD_COLUMNS = (
    "id, kind, inspection_id, checklist_item_id, media_id, value, comment, reviewer, "
    "created_at, origin, conflict_with"
)

# The newest record per target (checklist item, photo, or the inspection itself) with its
# version count: one statement for the whole inspection, read through
# ix_review_records_inspection_seq. PARTITION BY groups the NULL targets together, as wanted.
STATE_STATEMENT = text(
    f"SELECT {RECORD_COLUMNS}, versions FROM ("
    " SELECT r.*,"
    "  row_number() OVER (PARTITION BY kind, checklist_item_id, media_id ORDER BY seq DESC)"
    "   AS newest,"
    "  count(*) OVER (PARTITION BY kind, checklist_item_id, media_id) AS versions"
    " FROM review_records AS r WHERE r.inspection_id = :inspection_id) AS t"
    " WHERE newest = 1"
)

HISTORY_STATEMENT = text(
    f"SELECT {RECORD_COLUMNS} FROM review_records"
    " WHERE inspection_id = :inspection_id AND kind = :kind"
    " AND coalesce(checklist_item_id, media_id, 0) = :target"
    " ORDER BY seq"
)


def record_of(row: Sequence[Any]) -> ReviewRecord:
    """A row in RECORD_COLUMNS order -> a ReviewRecord (ids as UUIDs, whatever the driver)."""
    conflict = row[10]
    return ReviewRecord(
        id=row[0] if isinstance(row[0], uuid.UUID) else uuid.UUID(str(row[0])),
        kind=ReviewKind(row[1]),
        inspection_id=int(row[2]),
        checklist_item_id=row[3],
        media_id=row[4],
        value=row[5],
        comment=row[6],
        reviewer=row[7],
        created_at=row[8] if isinstance(row[8], datetime) else datetime.fromisoformat(row[8]),
        origin=row[9],
        conflict_with=(
            None
            if conflict is None
            else conflict
            if isinstance(conflict, uuid.UUID)
            else uuid.UUID(str(conflict))
        ),
    )


def state_of(inspection_id: int, rows: Iterable[Sequence[Any]]) -> ReviewState:
    """STATE_STATEMENT's rows (RECORD_COLUMNS, then the version count) -> the state."""
    return ReviewState.from_entries(
        inspection_id, (ReviewEntry(record_of(row), int(row[11])) for row in rows)
    )


async def load_review_state(conn: AsyncConnection, inspection_id: int) -> ReviewState:
    """Everything reviewed on an inspection, in ONE statement."""
    result = await conn.execute(STATE_STATEMENT, {"inspection_id": inspection_id})
    return state_of(inspection_id, result.all())


def read_review_state(conn: Connection, inspection_id: int) -> ReviewState:
    """load_review_state on a synchronous connection (the command line, reports)."""
    return state_of(
        inspection_id, conn.execute(STATE_STATEMENT, {"inspection_id": inspection_id}).all()
    )


async def load_history(
    conn: AsyncConnection, inspection_id: int, kind: ReviewKind, target: int | None
) -> tuple[ReviewRecord, ...]:
    """Every record on one target, oldest first (one statement, on demand)."""
    result = await conn.execute(
        HISTORY_STATEMENT, {"inspection_id": inspection_id, "kind": kind, "target": target or 0}
    )
    return tuple(record_of(row) for row in result.all())


def row_values(record: ReviewRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "kind": str(record.kind),
        "inspection_id": record.inspection_id,
        "checklist_item_id": record.checklist_item_id,
        "media_id": record.media_id,
        "value": record.value,
        "comment": record.comment,
        "reviewer": record.reviewer,
        "created_at": record.created_at,
        "origin": record.origin,
        "conflict_with": record.conflict_with,
    }


async def append_review(conn: AsyncConnection, record: ReviewRecord) -> None:
    """Write one record (one statement) and commit. A record whose item, photo or inspection
    is gone is a ReviewInputError; writing the same record twice inserts it once."""
    check_record(record)
    stmt = (
        pg_insert(Review).values(row_values(record)).on_conflict_do_nothing(index_elements=["id"])
    )
    try:
        await conn.execute(stmt)
        await conn.commit()
    except sa_exc.IntegrityError as exc:
        await conn.rollback()
        raise ReviewInputError(
            f"the review was not saved: the {record.kind} it is about no longer exists "
            "in the database (refresh with F5)"
        ) from exc


def database_identity(conn: Connection) -> uuid.UUID | None:
    """This database's identity (revision 0004), or None on a database not migrated that far."""
    if conn.execute(text("SELECT to_regclass('database_identity') IS NOT NULL")).scalar_one():
        value = conn.execute(text("SELECT id FROM database_identity")).scalar_one_or_none()
        return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    return None


def review_baseline(conn: Connection) -> int:
    """The newest review record's seq: records synced later that have a higher seq were made
    after this moment (an export records it; 0 where there is no review table yet)."""
    if conn.execute(text("SELECT to_regclass('review_records') IS NOT NULL")).scalar_one():
        newest = conn.execute(text("SELECT coalesce(max(seq), 0) FROM review_records"))
        return int(newest.scalar_one())
    return 0
