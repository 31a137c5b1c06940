"""What a reviewer records (verdicts, photo flags, decisions): frozen records and their rules."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from db.errors import KnownError

COMMENT_MAX_CHARS = 4000
REVIEWER_MAX_CHARS = 200


class ReviewKind(enum.StrEnum):
    ITEM = "item"  # a verdict on a checklist item
    PHOTO = "photo"  # a flag on a photo
    INSPECTION = "inspection"  # the review decision on the whole inspection


class Verdict(enum.StrEnum):
    ACCEPTED = "accepted"
    NEEDS_REWORK = "needs_rework"
    NOT_APPLICABLE = "not_applicable"


class PhotoFlag(enum.StrEnum):
    EVIDENCE = "evidence"
    UNCLEAR = "unclear"
    WRONG_ITEM = "wrong_item"


class Decision(enum.StrEnum):
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"


VALUES: Mapping[ReviewKind, frozenset[str]] = {
    ReviewKind.ITEM: frozenset(Verdict),
    ReviewKind.PHOTO: frozenset(PhotoFlag),
    ReviewKind.INSPECTION: frozenset(Decision),
}

LABELS: Mapping[str, str] = {
    Verdict.ACCEPTED: "Accepted",
    Verdict.NEEDS_REWORK: "Needs rework",
    Verdict.NOT_APPLICABLE: "Not applicable",
    PhotoFlag.EVIDENCE: "Evidence",
    PhotoFlag.UNCLEAR: "Unclear",
    PhotoFlag.WRONG_ITEM: "Wrong item",
    Decision.APPROVED: "Approved",
    Decision.CHANGES_REQUESTED: "Changes requested",
}


class ReviewInputError(KnownError):
    """A review record that breaks the rules (unknown verdict, comment too long, no name)."""


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    """One record, as written: never changed afterwards; a newer one on the same target
    supersedes it. `id` is made where it was written (online or in a bundle's journal)."""

    id: uuid.UUID
    kind: ReviewKind
    inspection_id: int
    checklist_item_id: int | None
    media_id: int | None
    value: str | None
    comment: str | None
    reviewer: str
    created_at: datetime
    origin: str = "online"
    conflict_with: uuid.UUID | None = None

    @classmethod
    def new(
        cls,
        kind: ReviewKind,
        inspection_id: int,
        *,
        target: int | None = None,
        value: str | None = None,
        comment: str | None = None,
        reviewer: str,
        origin: str = "online",
        now: datetime | None = None,
    ) -> ReviewRecord:
        """A fresh record with a new UUID, checked (ReviewInputError if it breaks a rule)."""
        record = cls(
            id=uuid.uuid4(),
            kind=ReviewKind(kind),
            inspection_id=inspection_id,
            checklist_item_id=target if kind is ReviewKind.ITEM else None,
            media_id=target if kind is ReviewKind.PHOTO else None,
            value=value or None,
            comment=(comment or "").strip() or None,
            reviewer=reviewer.strip(),
            created_at=now or datetime.now(UTC),
            origin=origin,
        )
        check_record(record)
        return record

    @property
    def target(self) -> int | None:
        """The checklist item or photo it is about (None for the inspection's decision)."""
        return self.checklist_item_id if self.kind is ReviewKind.ITEM else self.media_id

    @property
    def conflict(self) -> bool:
        return self.conflict_with is not None


def check_record(record: ReviewRecord) -> None:
    """The rules the database's constraints also enforce, checked before anything is written."""
    problems = list(_problems(record))
    if problems:
        raise ReviewInputError(f"review record {record.id}: " + "; ".join(problems))


def _problems(r: ReviewRecord) -> Iterable[str]:
    if r.kind not in VALUES:
        yield f"unknown kind {r.kind!r}"
        return
    if r.value is not None and r.value not in VALUES[r.kind]:
        yield f"{r.value!r} is not a {r.kind} value (" + ", ".join(sorted(VALUES[r.kind])) + ")"
    if r.kind is ReviewKind.ITEM and (r.checklist_item_id is None or r.media_id is not None):
        yield "an item verdict names one checklist item"
    if r.kind is ReviewKind.PHOTO and (r.media_id is None or r.checklist_item_id is not None):
        yield "a photo flag names one photo"
    if r.kind is ReviewKind.INSPECTION and (r.media_id, r.checklist_item_id) != (None, None):
        yield "an inspection decision names no item or photo"
    if not r.reviewer or len(r.reviewer) > REVIEWER_MAX_CHARS:
        yield f"the reviewer's name must have 1 to {REVIEWER_MAX_CHARS} characters"
    if r.comment is not None and len(r.comment) > COMMENT_MAX_CHARS:
        yield f"a comment may have at most {COMMENT_MAX_CHARS} characters"
    if r.created_at.tzinfo is None:
        yield "its time has no time zone"
    if r.origin not in ("online", "bundle"):
        yield f"unknown origin {r.origin!r}"


@dataclass(frozen=True, slots=True)
class ReviewEntry:
    """The current state of one target: its newest record and how many it has had."""

    record: ReviewRecord
    versions: int

    @property
    def value(self) -> str | None:
        return self.record.value

    @property
    def conflict(self) -> bool:
        """The newest record disagreed with another reviewer's (sync); a new record resolves."""
        return self.record.conflict


@dataclass(frozen=True)
class ReviewState:
    """Everything reviewed on one inspection: per checklist item, per photo, and the decision.

    Read API (the PDF report uses it): `item(id)`, `photo(id)`, `decision`, each the newest
    record with its version count, or None where nothing was recorded."""

    inspection_id: int
    items: Mapping[int, ReviewEntry] = field(default_factory=dict)
    photos: Mapping[int, ReviewEntry] = field(default_factory=dict)
    decision: ReviewEntry | None = None

    def item(self, checklist_item_id: int) -> ReviewEntry | None:
        return self.items.get(checklist_item_id)

    def photo(self, media_id: int) -> ReviewEntry | None:
        return self.photos.get(media_id)

    @property
    def conflicts(self) -> int:
        entries = [*self.items.values(), *self.photos.values()]
        if self.decision is not None:
            entries.append(self.decision)
        return sum(1 for e in entries if e.conflict)

    def with_record(self, record: ReviewRecord) -> ReviewState:
        """The state after `record` was written (no reload needed)."""
        if record.kind is ReviewKind.INSPECTION:
            versions = self.decision.versions + 1 if self.decision else 1
            return replace(self, decision=ReviewEntry(record, versions))
        table = self.items if record.kind is ReviewKind.ITEM else self.photos
        target = record.target
        assert target is not None
        old = table.get(target)
        updated = {**table, target: ReviewEntry(record, old.versions + 1 if old else 1)}
        if record.kind is ReviewKind.ITEM:
            return replace(self, items=updated)
        return replace(self, photos=updated)

    @classmethod
    def from_entries(cls, inspection_id: int, entries: Iterable[ReviewEntry]) -> ReviewState:
        items: dict[int, ReviewEntry] = {}
        photos: dict[int, ReviewEntry] = {}
        decision = None
        for entry in entries:
            rec = entry.record
            if rec.kind is ReviewKind.ITEM and rec.checklist_item_id is not None:
                items[rec.checklist_item_id] = entry
            elif rec.kind is ReviewKind.PHOTO and rec.media_id is not None:
                photos[rec.media_id] = entry
            elif rec.kind is ReviewKind.INSPECTION:
                decision = entry
        return cls(inspection_id, items, photos, decision)
