"""The review state a report shows, from issue #15's records (db.review): one statement each."""

from __future__ import annotations

import logging

from sqlalchemy import exc as sa_exc

from db.metrics import QueryMetrics
from db.records import InspectionSummary
from db.review import LABELS, ReviewEntry, ReviewState
from db.review.store import ReviewStore
from viewer.report.content import ItemVerdict, ReviewSummary
from viewer.report.gather import ReviewProvider, no_review

log = logging.getLogger(__name__)


def review_from(reviews: ReviewStore | None, metrics: QueryMetrics) -> ReviewProvider:
    """The report's review state from a DataSource's review store (the database, or an opened
    bundle's journal), one statement per inspection; no store, no review."""
    if reviews is None:
        return no_review

    async def provide(inspection: InspectionSummary) -> ReviewSummary | None:
        try:
            state = await reviews.load(inspection.id, metrics)
        except sa_exc.ProgrammingError as exc:  # a database before revision 0004: no review
            log.info("no review state for %s: %s", inspection.reference_code, exc.orig)
            return None
        return review_summary(state)

    return provide


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
