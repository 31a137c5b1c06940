"""The review state a report shows, from issue #15's records (db.review): one statement each."""

from __future__ import annotations

import logging

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from db.records import InspectionSummary
from db.review import LABELS, ReviewEntry, ReviewState, load_review_state
from viewer.report.content import ItemVerdict, ReviewSummary

log = logging.getLogger(__name__)


async def database_review(
    engine: AsyncEngine, inspection: InspectionSummary
) -> ReviewSummary | None:
    """The review state of `inspection` in the database, None where there is none (nothing
    reviewed yet, or a database before revision 0004 without the review table)."""
    try:
        async with engine.connect() as conn:
            state = await load_review_state(conn, inspection.id)
    except sa_exc.ProgrammingError as exc:  # no review table (older schema): no review
        log.info("no review state for %s: %s", inspection.reference_code, exc.orig)
        return None
    except sa_exc.OperationalError as exc:  # a bundle's SQLite has no review table either
        if "no such table" not in str(exc.orig):
            raise
        return None
    return review_summary(state)


def review_summary(state: ReviewState) -> ReviewSummary | None:
    """What the report shows of a ReviewState; None if nothing was recorded."""
    if state.decision is None and not state.items and not state.photos:
        return None
    decision = state.decision
    return ReviewSummary(
        decision=decision.value if decision is not None else None,
        summary=decision.record.comment if decision is not None else None,
        reviewer=decision.record.reviewer if decision is not None else "",
        decided_at=decision.record.created_at if decision is not None else None,
        verdicts={
            item_id: _verdict(entry)
            for item_id, entry in state.items.items()
            if entry.value is not None
        },
        photo_flags={
            media_id: _label(entry)
            for media_id, entry in state.photos.items()
            if entry.value is not None
        },
    )


def _label(entry: ReviewEntry) -> str:
    value = entry.value or ""
    label = LABELS.get(value, value)
    return f"{label} (conflict)" if entry.conflict else label


def _verdict(entry: ReviewEntry) -> ItemVerdict:
    record = entry.record
    verdict = entry.value or ""
    return ItemVerdict(
        verdict,
        record.comment,
        record.reviewer,
        record.created_at,
        conflict=entry.conflict,
    )
