"""What a report says about one inspection, and in which order: no Qt, no I/O."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from db.records import ChecklistEntry, InspectionMedia, InspectionSummary, MediaItem

RESULT_LABELS = {"pass": "PASS", "fail": "FAIL", "na": "N/A", "pending": "PENDING"}
STATUS_LABELS = {
    "draft": "Draft",
    "in_progress": "In progress",
    "completed": "Completed",
    "archived": "Archived",
}
# A reviewer's item verdict that puts an item among the ones needing attention (issue #15).
NEEDS_REWORK = "needs_rework"
VERDICT_LABELS = {
    "accepted": "Accepted",
    NEEDS_REWORK: "Needs rework",
    "not_applicable": "Not applicable",
}
DECISION_LABELS = {"approved": "Approved", "changes_requested": "Changes requested"}


class PhotoChoice(enum.StrEnum):
    """Which items' photos the report shows (`--photos`)."""

    ALL = "all"
    FAILED = "failed"  # the failed and needs-rework items only
    NONE = "none"


@dataclass(frozen=True, slots=True)
class ItemVerdict:
    """A reviewer's current verdict on one checklist item."""

    verdict: str
    comment: str | None = None
    reviewer: str = ""
    at: datetime | None = None
    conflict: bool = False  # reviewers disagreed (sync); shown, never resolved here

    @property
    def label(self) -> str:
        label = VERDICT_LABELS.get(self.verdict, self.verdict.replace("_", " ").capitalize())
        return f"{label} (conflict)" if self.conflict else label


@dataclass(frozen=True, slots=True)
class ReviewSummary:
    """The review state a report shows: the decision on the inspection and the item verdicts.

    The seam for issue #15's review records: whatever loads them turns them into this; a
    report without one (no review yet, or no review support) says nothing about review."""

    decision: str | None = None
    summary: str | None = None
    reviewer: str = ""
    decided_at: datetime | None = None
    verdicts: Mapping[int, ItemVerdict] = field(default_factory=dict)  # by checklist item id
    photo_flags: Mapping[int, str] = field(default_factory=dict)  # by media id, as labels

    @property
    def decision_label(self) -> str | None:
        if self.decision is None:
            return None
        return DECISION_LABELS.get(self.decision, self.decision.replace("_", " ").capitalize())


@dataclass(frozen=True, slots=True)
class ReportInspection:
    """Everything one inspection's report shows, loaded before any page is drawn."""

    summary: InspectionSummary
    checklist: tuple[ChecklistEntry, ...]
    media: InspectionMedia
    review: ReviewSummary | None = None

    @property
    def reference(self) -> str:
        return self.summary.reference_code

    def verdict(self, item_id: int) -> ItemVerdict | None:
        return None if self.review is None else self.review.verdicts.get(item_id)

    def photo_flag(self, media_id: int) -> str | None:
        return None if self.review is None else self.review.photo_flags.get(media_id)

    def needs_attention(self, entry: ChecklistEntry) -> bool:
        """Failed, or sent back by the reviewer: these items open the report."""
        verdict = self.verdict(entry.id)
        return entry.result == "fail" or (verdict is not None and verdict.verdict == NEEDS_REWORK)

    def attention_items(self) -> tuple[ChecklistEntry, ...]:
        """The failed and needs-rework items, in checklist order."""
        return tuple(e for e in self.checklist if self.needs_attention(e))

    def other_items(self) -> tuple[ChecklistEntry, ...]:
        """The rest, in checklist order."""
        return tuple(e for e in self.checklist if not self.needs_attention(e))

    def photos_of(self, entry: ChecklistEntry, choice: PhotoChoice) -> tuple[MediaItem, ...]:
        if choice is PhotoChoice.NONE:
            return ()
        if choice is PhotoChoice.FAILED and not self.needs_attention(entry):
            return ()
        return self.media.for_item(entry.id)

    def counts(self) -> Counter[str]:
        """Items by result."""
        return Counter(e.result for e in self.checklist)


def summary_lines(inspection: ReportInspection, choice: PhotoChoice) -> list[tuple[str, str]]:
    """The summary's label/value rows."""
    counts = inspection.counts()
    rows = [
        ("Checklist items", f"{len(inspection.checklist):,}"),
        ("Passed", f"{counts.get('pass', 0):,}"),
        ("Failed", f"{counts.get('fail', 0):,}"),
        ("Not applicable", f"{counts.get('na', 0):,}"),
        ("Pending", f"{counts.get('pending', 0):,}"),
    ]
    if inspection.review is not None:
        rework = sum(1 for v in inspection.review.verdicts.values() if v.verdict == NEEDS_REWORK)
        rows.append(("Needs rework", f"{rework:,}"))
    rows.append(("Needing attention", f"{len(inspection.attention_items()):,}"))
    shown = sum(len(inspection.photos_of(e, choice)) for e in inspection.checklist)
    rows.append(("Photos", f"{inspection.media.count:,} ({shown:,} in this report)"))
    return rows


def cover_facts(inspection: ReportInspection) -> list[tuple[str, str]]:
    """The cover's label/value rows: site, address, inspector, dates, status, review."""
    s = inspection.summary
    rows = [
        ("Site", s.site_name),
        ("Address", s.address),
        ("Inspector", s.inspector_name),
        ("Scheduled", when(s.scheduled_at)),
        ("Completed", when(s.completed_at) if s.completed_at else "Not completed"),
        ("Status", STATUS_LABELS.get(s.status, s.status)),
    ]
    review = inspection.review
    if review is not None and review.decision_label is not None:
        by = f" by {review.reviewer}" if review.reviewer else ""
        at = f", {when(review.decided_at)}" if review.decided_at else ""
        rows.append(("Review decision", f"{review.decision_label}{by}{at}"))
        if review.summary:
            rows.append(("Review summary", review.summary))
    return rows


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    zone = moment.strftime("%Z")
    return moment.strftime("%Y-%m-%d %H:%M") + (f" {zone}" if zone else "")


def item_heading(entry: ChecklistEntry) -> str:
    return f"{entry.position}. {entry.title}"


def sections_in_order(entries: Sequence[ChecklistEntry]) -> list[tuple[str, list[ChecklistEntry]]]:
    """Consecutive runs of one section, in checklist order."""
    runs: list[tuple[str, list[ChecklistEntry]]] = []
    for entry in entries:
        if runs and runs[-1][0] == entry.section:
            runs[-1][1].append(entry)
        else:
            runs.append((entry.section, [entry]))
    return runs
