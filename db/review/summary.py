"""What a sync reports: records pushed, already there, in conflict, kept in the journal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from db.review.records import LABELS, ReviewKind, ReviewRecord


@dataclass(frozen=True, slots=True)
class SyncConflict:
    ours: ReviewRecord
    theirs_value: str | None
    theirs_reviewer: str
    theirs_at: datetime

    def describe(self, references: dict[int, str]) -> str:
        what = {ReviewKind.ITEM: "item", ReviewKind.PHOTO: "photo"}.get(self.ours.kind, "")
        target = f" {what} {self.ours.target}" if what else ""
        return (
            f"{references.get(self.ours.inspection_id, self.ours.inspection_id)}{target}: "
            f"{self.ours.reviewer} said {_label(self.ours.value)}, "
            f"{self.theirs_reviewer} said {_label(self.theirs_value)} on the server "
            f"({self.theirs_at:%Y-%m-%d %H:%M}); both kept, record a new verdict to resolve"
        )


def _label(value: str | None) -> str:
    return LABELS.get(value, value) if value else "nothing"


@dataclass(frozen=True)
class SyncSummary:
    pushed: int = 0
    already_there: int = 0
    conflicts: tuple[SyncConflict, ...] = ()
    kept: tuple[str, ...] = ()  # one message per inspection whose records stay in the journal
    kept_records: int = 0
    references: dict[int, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        head = (
            f"{self.pushed} pushed, {self.already_there} already there, "
            f"{len(self.conflicts)} conflict{'s' if len(self.conflicts) != 1 else ''}"
        )
        if self.kept_records:
            head += f", {self.kept_records} kept in the journal"
        return [
            head,
            *(f"conflict: {c.describe(self.references)}" for c in self.conflicts),
            *(f"kept: {k}" for k in self.kept),
        ]
