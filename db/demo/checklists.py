"""Checklist rows of one inspection: which items it has, their results and the inspector's notes."""

from __future__ import annotations

import math
import random
from datetime import timedelta

from db.demo.rows import InspectionPlan, Rows
from db.demo.spec import ANCHOR
from db.demo.vocabulary import (
    ACTIONS,
    CHECKLIST,
    CORE_SECTIONS,
    DEFECTS,
    LARGE_LOCATIONS,
    LOCATION_SEP,
    NA_NOTES,
    PASS_NOTES,
    PENDING_NOTES,
    SECTIONS,
)
from db.models import InspectionStatus, ItemResult

# Every draw below comes from the one `rng` in a fixed order: the same seed, the same rows.


def add_checklist(
    rng: random.Random,
    rows: Rows,
    inspection_id: int,
    plan: InspectionPlan,
    status: str,
    large_items: int,
) -> None:
    """Append the inspection's checklist items to `rows.items`; pending ones get their
    `updated_at` from the inspection afterwards."""
    entries = large_titles(large_items) if plan.kind == "large" else typical_titles(rng)
    fail_rate = rng.uniform(0.03, 0.18)
    na_rate = rng.uniform(0.04, 0.14)
    progress = rng.uniform(0.3, 0.9) if plan.kind != "large" else 0.85
    for position, (section, title) in enumerate(entries, start=1):
        done_share = position / len(entries)
        if status == InspectionStatus.DRAFT.value:
            pending = plan.scheduled_at > ANCHOR or rng.random() < 0.9
        elif status == InspectionStatus.IN_PROGRESS.value:
            pending = done_share > progress or rng.random() < 0.04
        else:
            pending = False
        result = ItemResult.PENDING.value if pending else _result(rng, fail_rate, na_rate)
        rows.items.append(
            {
                "id": len(rows.items) + 1,
                "inspection_id": inspection_id,
                "section": section,
                "position": position,
                "title": title,
                "result": result,
                "notes": _note(rng, title, result),
                "updated_at": plan.scheduled_at + timedelta(seconds=40 * position + 600),
            }
        )


def typical_titles(rng: random.Random) -> list[tuple[str, str]]:
    """15 to 45 (section, title) pairs: the core sections, some others, in template order."""
    count = rng.randint(15, 45)
    optional = [s for s in SECTIONS if s not in CORE_SECTIONS]
    fewest = max(1, math.ceil(count / 7) - len(CORE_SECTIONS))
    extra = rng.sample(optional, rng.randint(fewest, max(fewest, 5)))
    chosen = [s for s in SECTIONS if s in CORE_SECTIONS or s in extra]
    # Guarantee room for `count` titles, then share them out, at least one per section.
    while sum(len(CHECKLIST[s]) for s in chosen) < count:
        missing = [s for s in SECTIONS if s not in chosen]
        chosen = [s for s in SECTIONS if s in chosen or s == missing[0]]
    count = max(count, len(chosen))
    per = dict.fromkeys(chosen, 1)
    for _ in range(count - len(chosen)):
        open_sections = [s for s in chosen if per[s] < len(CHECKLIST[s])]
        per[rng.choice(open_sections)] += 1
    entries: list[tuple[str, str]] = []
    for section in chosen:
        titles = CHECKLIST[section]
        picked = sorted(rng.sample(range(len(titles)), per[section]))
        entries.extend((section, titles[i]) for i in picked)
    return entries


def large_titles(total: int) -> list[tuple[str, str]]:
    """`total` pairs: every section's template repeated per location ("<title> — Tower A")."""
    base, extra = divmod(total, len(SECTIONS))
    entries: list[tuple[str, str]] = []
    for n, section in enumerate(SECTIONS):
        wanted = base + (1 if n < extra else 0)
        titles = CHECKLIST[section]
        for k in range(wanted):
            title = titles[k % len(titles)]
            round_no, loc_no = divmod(k // len(titles), len(LARGE_LOCATIONS))
            where = LARGE_LOCATIONS[loc_no]
            if round_no:
                where = f"{where}, round {round_no + 1}"
            entries.append((section, f"{title}{LOCATION_SEP}{where}"))
    return entries


def base_title(title: str) -> str:
    """The template title of a large inspection's located one."""
    return title.split(LOCATION_SEP)[0]


def _result(rng: random.Random, fail_rate: float, na_rate: float) -> str:
    roll = rng.random()
    if roll < fail_rate:
        return ItemResult.FAIL.value
    if roll < fail_rate + na_rate:
        return ItemResult.NA.value
    return ItemResult.PASS.value


def _note(rng: random.Random, title: str, result: str) -> str | None:
    if result == ItemResult.FAIL.value:
        return f"{DEFECTS[base_title(title)]}. {rng.choice(ACTIONS)}"
    if result == ItemResult.PASS.value and rng.random() < 0.12:
        return rng.choice(PASS_NOTES)
    if result == ItemResult.NA.value and rng.random() < 0.5:
        return rng.choice(NA_NOTES)
    if result == ItemResult.PENDING.value and rng.random() < 0.05:
        return rng.choice(PENDING_NOTES)
    return None
