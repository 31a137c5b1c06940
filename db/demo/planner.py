"""The planner: turns the seed into rows, inspections by date with their checklists and photos."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from db.demo.checklists import add_checklist
from db.demo.media_rows import MediaPlanner
from db.demo.pool import PoolPhoto
from db.demo.rows import InspectionPlan, Rows
from db.demo.spec import (
    ANCHOR,
    BAD_MEDIA_INSPECTION_REFERENCE,
    LARGE_INSPECTION_REFERENCE,
    DemoSpec,
)
from db.demo.vocabulary import (
    CITIES,
    INSPECTORS,
    SITE_KINDS,
    SITE_PREFIXES,
    STREET_TYPES,
    STREETS,
)
from db.models import InspectionStatus, ItemResult

# Every draw comes from the one `rng` in a fixed order: the same seed gives the same rows, so
# reordering the calls below changes the dataset.
LARGE_SITE = ("Harbourview Towers", "1 Harbourview Plaza, Portland, OR 97209")
_FINISHED = (InspectionStatus.COMPLETED.value, InspectionStatus.ARCHIVED.value)


class Planner:
    """Turns the seed into rows: inspections by date, their checklists, their photos."""

    def __init__(self, rng: random.Random, spec: DemoSpec, pool: Sequence[PoolPhoto]) -> None:
        self.rng = rng
        self.spec = spec
        self.rows = Rows()
        self.media = MediaPlanner(rng, self.rows, pool, spec.large_media)

    def build(self) -> Rows:
        plans = self._plan_inspections()
        sites = self._sites(len(plans))
        soft_delete_in = self._soft_delete_targets(plans)
        for inspection_id, plan in enumerate(plans, start=1):
            self._inspection(
                inspection_id,
                plan,
                sites[inspection_id - 1],
                soft_delete=inspection_id in soft_delete_in,
            )
        return self.rows

    def _plan_inspections(self) -> list[InspectionPlan]:
        rng = self.rng
        plans = [
            InspectionPlan(
                "large",
                _at(ANCHOR - timedelta(days=6), 7, 30),
                "in_progress",
                LARGE_INSPECTION_REFERENCE,
            ),
            InspectionPlan(
                "bad",
                _working_day(ANCHOR - timedelta(days=rng.randint(18, 40)), rng),
                "completed",
                BAD_MEDIA_INSPECTION_REFERENCE,
            ),
        ]
        for _ in range(self.spec.inspections - 2):
            # About 18 months: 16 back from the anchor, 2 ahead (scheduled drafts).
            day = ANCHOR + timedelta(days=rng.randint(-485, 60))
            scheduled = _working_day(day, rng)
            plans.append(InspectionPlan("typical", scheduled, self._status_for(scheduled)))
        plans.sort(key=lambda p: (p.scheduled_at, p.reference_code))
        self._number(plans)
        return plans

    def _number(self, plans: Sequence[InspectionPlan]) -> None:
        """Reference codes in date order, "INS-<year>-<number>", never a reserved one."""
        rng = self.rng
        reserved = {LARGE_INSPECTION_REFERENCE, BAD_MEDIA_INSPECTION_REFERENCE}
        counters: dict[int, int] = {}
        for plan in plans:
            if plan.reference_code:
                continue
            year = plan.scheduled_at.year
            number = counters.get(year, rng.randint(96, 130))
            code = ""
            while not code or code in reserved:
                number += rng.randint(1, 6)
                code = f"INS-{year}-{number:04d}"
            counters[year] = number
            plan.reference_code = code

    def _status_for(self, scheduled: datetime) -> str:
        age = (ANCHOR - scheduled).days
        roll = self.rng.random()
        if scheduled > ANCHOR:
            return InspectionStatus.DRAFT.value
        if age < 30:
            if roll < 0.15:
                return InspectionStatus.DRAFT.value
            return (
                InspectionStatus.IN_PROGRESS.value
                if roll < 0.6
                else InspectionStatus.COMPLETED.value
            )
        if age < 365:
            return (
                InspectionStatus.IN_PROGRESS.value
                if roll < 0.06
                else InspectionStatus.COMPLETED.value
            )
        return InspectionStatus.ARCHIVED.value if roll < 0.75 else InspectionStatus.COMPLETED.value

    def _sites(self, count: int) -> list[tuple[str, str]]:
        rng = self.rng
        names = [f"{p} {k}" for p in SITE_PREFIXES for k in SITE_KINDS]
        rng.shuffle(names)
        sites = []
        for i in range(count):
            name = names[i % len(names)]
            if i >= len(names):
                name = f"{name} (Building {i // len(names) + 1})"
            city, zip_prefix = CITIES[rng.randrange(len(CITIES))]
            street = f"{rng.choice(STREETS)} {rng.choice(STREET_TYPES)}"
            address = (
                f"{rng.randint(2, 2980)} {street}, {city} {zip_prefix}{rng.randint(1, 99):02d}"
            )
            sites.append((name, address))
        return sites

    def _soft_delete_targets(self, plans: Sequence[InspectionPlan]) -> set[int]:
        candidates = [
            i
            for i, p in enumerate(plans, start=1)
            if p.kind == "typical" and p.status != InspectionStatus.DRAFT.value
        ]
        chosen = set(self.rng.sample(candidates, min(4, len(candidates))))
        chosen.add(next(i for i, p in enumerate(plans, start=1) if p.kind == "large"))
        return chosen

    def _inspection(
        self, inspection_id: int, plan: InspectionPlan, site: tuple[str, str], *, soft_delete: bool
    ) -> None:
        rng = self.rng
        site_name, address = LARGE_SITE if plan.kind == "large" else site
        status, completed_at = self._completion(plan)
        created_at = _at(
            plan.scheduled_at - timedelta(days=rng.randint(3, 40)),
            rng.randint(8, 16),
            rng.randrange(0, 60, 5),
        )
        first_item = len(self.rows.items)
        add_checklist(rng, self.rows, inspection_id, plan, status, self.spec.large_items)
        items = self.rows.items[first_item:]
        last_photo = self.media.add(inspection_id, plan, items, soft_delete=soft_delete)
        if completed_at is not None:
            updated_at = completed_at
        elif status == InspectionStatus.IN_PROGRESS.value:
            updated_at = min(ANCHOR, last_photo or plan.scheduled_at + timedelta(hours=2))
        else:
            updated_at = created_at
        self.rows.inspections.append(
            {
                "id": inspection_id,
                "reference_code": plan.reference_code,
                "site_name": site_name,
                "address": address,
                "inspector_name": rng.choice(INSPECTORS),
                "status": status,
                "scheduled_at": plan.scheduled_at,
                "completed_at": completed_at,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )
        for row in items:
            if row["result"] == ItemResult.PENDING.value:
                row["updated_at"] = created_at

    def _completion(self, plan: InspectionPlan) -> tuple[str, datetime | None]:
        """The status as planned, unless it would be completed after the anchor (then still in
        progress), and when it was completed."""
        if plan.status not in _FINISHED:
            return plan.status, None
        rng = self.rng
        completed_at = (
            plan.scheduled_at
            + timedelta(hours=rng.randint(3, 9), minutes=rng.randint(0, 59))
            + timedelta(days=rng.choice((0, 0, 0, 1, 2, 5)))
        )
        if completed_at > ANCHOR:
            return InspectionStatus.IN_PROGRESS.value, None
        return plan.status, completed_at


def _at(day: datetime, hour: int, minute: int) -> datetime:
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def _working_day(day: datetime, rng: random.Random) -> datetime:
    """`day` moved to the next Monday if it falls on a weekend, at a morning start time."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return _at(day, rng.randint(7, 10), rng.randrange(0, 60, 15))
