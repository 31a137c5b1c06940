"""Plain frozen records that queries return: a view can never trigger a lazy load through them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class InspectionSummary:
    """One row of the inspection list."""

    id: int
    reference_code: str
    site_name: str
    address: str
    inspector_name: str
    status: str
    scheduled_at: datetime
    completed_at: datetime | None
    media_count: int


@dataclass(frozen=True, slots=True)
class InspectionPage:
    """A page of the inspection list and the key to ask for the next one (None at the end)."""

    rows: tuple[InspectionSummary, ...]
    next_key: tuple[datetime, int] | None
