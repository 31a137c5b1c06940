"""Loading what a report shows, with the window's own loader: no Qt, async, a few statements.

Per inspection the MediaBatchLoader runs its two statements (checklist, streamed media), exactly
as when the inspection is opened in the window; one more statement finds the inspections by
reference, and the review provider (issue #15) may add its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from db.errors import ConfigError, KnownError
from db.loader import MediaBatchLoader
from db.queries import inspections_by_reference
from db.records import InspectionSummary, MediaItem
from viewer.report.content import ReportInspection, ReviewSummary

# Our own limits on what the command line or a selection may ask for.
MAX_REFERENCES = 500
MAX_REFERENCE_CHARS = 64

# The review state of one inspection, or None where there is none (viewer.report.review).
ReviewProvider = Callable[[InspectionSummary], Awaitable[ReviewSummary | None]]


async def no_review(inspection: InspectionSummary) -> ReviewSummary | None:
    """Where there is nowhere to read reviews from: the report shows no review."""
    return None


def clean_references(references: Sequence[str]) -> list[str]:
    """The references as asked, trimmed, each once, in the order given; ConfigError if unusable."""
    wanted: list[str] = []
    for raw in references:
        ref = raw.strip()
        if not ref:
            continue
        if len(ref) > MAX_REFERENCE_CHARS or not ref.isprintable():
            raise ConfigError(f"not an inspection reference: {ref[:MAX_REFERENCE_CHARS]!r}")
        if ref not in wanted:
            wanted.append(ref)
    if not wanted:
        raise ConfigError("name at least one inspection reference, for example INS-2026-0412")
    if len(wanted) > MAX_REFERENCES:
        raise ConfigError(f"at most {MAX_REFERENCES} inspections in one report run")
    return wanted


async def load_report_inspections(
    loader: MediaBatchLoader,
    references: Sequence[str],
    review: ReviewProvider = no_review,
) -> list[ReportInspection]:
    """The inspections in the order asked; KnownError naming every unknown reference."""
    wanted = clean_references(references)
    async with loader.engine.connect() as conn:
        found = await inspections_by_reference(conn, wanted)
    missing = [ref for ref in wanted if ref not in found]
    if missing:
        raise KnownError(f"no inspection with reference {', '.join(missing)}")
    loaded = []
    for ref in wanted:
        summary = found[ref]
        checklist, media = await asyncio.gather(
            loader.load_checklist(summary.id),
            # Streamed, as the window loads: the loop (the GUI thread, for a report made in the
            # window) runs between the chunks. The whole result of a 20,000-photo inspection at
            # once held it for 62-128 ms, in chunks for 5-9 ms.
            loader.load_media(summary.id, on_rows=_in_chunks),
        )
        state = await review(summary)
        loaded.append(ReportInspection(summary, checklist, media.media, state))
    return loaded


def _in_chunks(_first: int, _rows: tuple[MediaItem, ...]) -> None:
    """The report waits for every photo; asking for the rows as they arrive is what streams."""
