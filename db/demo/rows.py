"""The planner's working state: the rows it has made so far and the plan of each inspection."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Row = dict[str, Any]


@dataclass
class Rows:
    """Table rows in insert order; each row's id is its position + 1."""

    inspections: list[Row] = field(default_factory=list)
    items: list[Row] = field(default_factory=list)
    media: list[Row] = field(default_factory=list)
    bad_media: int = 0
    soft_deleted: int = 0


@dataclass
class InspectionPlan:
    kind: str  # "typical", "large" or "bad"
    scheduled_at: datetime
    status: str
    reference_code: str = ""
