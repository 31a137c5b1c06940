"""The queries the app runs. Each takes its connection explicitly and returns frozen records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ScalarSelect, Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Inspection, Media
from db.records import InspectionPage, InspectionSummary

PAGE_SIZE = 200


def _media_count() -> ScalarSelect[int]:
    # Counted per row of one page only; served by the partial index on live media.
    return (
        select(func.count(Media.id))
        .where(Media.inspection_id == Inspection.id, Media.deleted_at.is_(None))
        .scalar_subquery()
    )


def inspection_page_stmt(
    after: tuple[datetime, int] | None = None, status: str | None = None, limit: int = PAGE_SIZE
) -> Select[*tuple[Any, ...]]:
    """Newest first, keyset-paged on (scheduled_at, id): no OFFSET, so every page costs the same."""
    stmt = select(
        Inspection.id,
        Inspection.reference_code,
        Inspection.site_name,
        Inspection.address,
        Inspection.inspector_name,
        Inspection.status,
        Inspection.scheduled_at,
        Inspection.completed_at,
        _media_count().label("media_count"),
    )
    if status is not None:
        stmt = stmt.where(Inspection.status == status)
    if after is not None:
        # A row comparison is one index condition on (scheduled_at DESC, id DESC).
        stmt = stmt.where(tuple_(Inspection.scheduled_at, Inspection.id) < tuple_(*after))
    return stmt.order_by(Inspection.scheduled_at.desc(), Inspection.id.desc()).limit(limit)


async def list_inspections(
    conn: AsyncConnection,
    after: tuple[datetime, int] | None = None,
    status: str | None = None,
    limit: int = PAGE_SIZE,
) -> InspectionPage:
    result = await conn.execute(inspection_page_stmt(after, status, limit))
    rows = tuple(InspectionSummary(**row._mapping) for row in result.all())
    next_key = (rows[-1].scheduled_at, rows[-1].id) if len(rows) == limit else None
    return InspectionPage(rows=rows, next_key=next_key)
