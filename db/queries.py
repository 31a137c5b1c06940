"""The inspection list's queries: keyset-paged, filtered, searched. Frozen records out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Select, and_, func, literal_column, or_, select
from sqlalchemy import tuple_ as row
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Inspection, Media
from db.performance import search_expression
from db.records import InspectionPage, InspectionQuery, InspectionSort, InspectionSummary

PAGE_SIZE = 200
ALL_INSPECTIONS = InspectionQuery()  # no search, no filter, newest first

# The exact expression of ix_inspections_search_trgm, with qualified names: written any other
# way the planner cannot use the trigram index.
_SEARCH: ColumnElement[str] = literal_column(search_expression("inspections"))


def _media_count() -> ScalarSelect[int]:
    # Counted for the rows of one page only, from the partial index on live media.
    return (
        select(func.count(Media.id))
        .where(Media.inspection_id == Inspection.id, Media.deleted_at.is_(None))
        .scalar_subquery()
    )


def like_pattern(term: str) -> str:
    """A substring pattern with the user's own % and _ taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _order(sort: InspectionSort) -> list[ColumnElement[Any]]:
    i = Inspection
    orders: dict[InspectionSort, list[ColumnElement[Any]]] = {
        InspectionSort.NEWEST: [i.scheduled_at.desc(), i.id.desc()],
        InspectionSort.OLDEST: [i.scheduled_at.asc(), i.id.asc()],
        InspectionSort.REFERENCE: [i.reference_code.asc()],
        InspectionSort.REFERENCE_DESC: [i.reference_code.desc()],
        InspectionSort.STATUS: [i.status.asc(), i.scheduled_at.desc(), i.id.desc()],
    }
    return orders[sort]


def _after(sort: InspectionSort, key: tuple[Any, ...]) -> ColumnElement[bool]:
    """Rows strictly after `key` in `sort` order: the keyset condition (no OFFSET)."""
    i = Inspection
    match sort:
        case InspectionSort.NEWEST:
            newer: ColumnElement[bool] = row(i.scheduled_at, i.id) < row(*key)
            return newer
        case InspectionSort.OLDEST:
            older: ColumnElement[bool] = row(i.scheduled_at, i.id) > row(*key)
            return older
        case InspectionSort.REFERENCE:
            return i.reference_code > str(key[0])
        case InspectionSort.REFERENCE_DESC:
            return i.reference_code < str(key[0])
        case InspectionSort.STATUS:
            status, scheduled, ident = key
            return or_(
                i.status > status,
                and_(i.status == status, row(i.scheduled_at, i.id) < row(scheduled, ident)),
            )


def _key(sort: InspectionSort, rec: InspectionSummary) -> tuple[Any, ...]:
    match sort:
        case InspectionSort.NEWEST | InspectionSort.OLDEST:
            return (rec.scheduled_at, rec.id)
        case InspectionSort.REFERENCE | InspectionSort.REFERENCE_DESC:
            return (rec.reference_code,)
        case InspectionSort.STATUS:
            return (rec.status, rec.scheduled_at, rec.id)


def _summary_select() -> Select[*tuple[Any, ...]]:
    """InspectionSummary's columns, in its field order."""
    return select(
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


def inspection_page_stmt(
    query: InspectionQuery = ALL_INSPECTIONS,
    after: tuple[Any, ...] | None = None,
    limit: int = PAGE_SIZE,
) -> Select[*tuple[Any, ...]]:
    """One page of the list in the query's order, starting after a keyset key."""
    stmt = _summary_select()
    if query.status is not None:
        stmt = stmt.where(Inspection.status == query.status)
    # InspectionQuery has cleaned the term (db.records.clean_search): no control characters,
    # trimmed, bounded; the same on PostgreSQL and SQLite.
    if query.search:
        stmt = stmt.where(_SEARCH.ilike(like_pattern(query.search), escape="\\"))
    if after is not None:
        stmt = stmt.where(_after(query.sort, after))
    return stmt.order_by(*_order(query.sort)).limit(limit)


async def list_inspections(
    conn: AsyncConnection,
    query: InspectionQuery = ALL_INSPECTIONS,
    after: tuple[Any, ...] | None = None,
    limit: int = PAGE_SIZE,
) -> InspectionPage:
    result = await conn.execute(inspection_page_stmt(query, after, limit))
    rows = tuple(InspectionSummary(*r) for r in result.all())
    next_key = _key(query.sort, rows[-1]) if len(rows) == limit else None
    return InspectionPage(rows=rows, next_key=next_key)


async def inspections_by_reference(
    conn: AsyncConnection, references: Sequence[str]
) -> dict[str, InspectionSummary]:
    """The inspections with these reference codes, in one statement; absent ones are left out."""
    if not references:
        return {}
    stmt = _summary_select().where(Inspection.reference_code.in_(list(references)))
    result = await conn.execute(stmt)
    rows = (InspectionSummary(*r) for r in result.all())
    return {rec.reference_code: rec for rec in rows}
