"""Media rows of one inspection: how many photos per item, when they were taken, which file."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from db.demo.checklists import base_title
from db.demo.pool import PoolPhoto, bad_source
from db.demo.rows import InspectionPlan, Row, Rows
from db.demo.spec import ANCHOR, BAD_CAPTIONS, BAD_MEDIA_KEYS, BAD_MEDIA_PREFIX, MIME_JPEG
from db.demo.vocabulary import DEFECTS, PHOTO_VIEWS
from db.models import ItemResult

# Photos per item 0..8 on a typical inspection (index = count).
PHOTO_COUNT_WEIGHTS = (26, 22, 16, 11, 8, 6, 5, 3, 3)
MAX_PHOTOS_PER_ITEM = len(PHOTO_COUNT_WEIGHTS) - 1
# Photos of one inspection are taken within this many seconds of its start (same day).
DAY_BUDGET_S = 9 * 3600
# The large inspection's soft-deleted photos, on top of spec.large_media live ones.
LARGE_SOFT_DELETED = 3


class MediaPlanner:
    """Appends media rows to `rows.media`, drawing from the planner's `rng` in a fixed order."""

    def __init__(
        self, rng: random.Random, rows: Rows, pool: Sequence[PoolPhoto], large_media: int
    ) -> None:
        self.rng = rng
        self.rows = rows
        self.pool = list(pool)
        self.large_media = large_media
        self.by_section: dict[str, list[PoolPhoto]] = {}
        for photo in self.pool:
            self.by_section.setdefault(photo.section, []).append(photo)

    def add(
        self,
        inspection_id: int,
        plan: InspectionPlan,
        items: Sequence[Row],
        *,
        soft_delete: bool,
    ) -> datetime | None:
        """The photos of one inspection's items; returns when the last was taken."""
        kinds = self._kinds(plan, items)
        if not any(kinds):
            return None
        large = plan.kind == "large"
        gaps = self._gaps(kinds, large=large)
        # Scaled down when a big inspection would not fit in one working day.
        scale = min(1.0, DAY_BUDGET_S / sum(gaps))
        rng = self.rng
        soft_quota = (LARGE_SOFT_DELETED if large else rng.randint(1, 3)) if soft_delete else 0
        first = len(self.rows.media)
        clock = plan.scheduled_at
        gap_iter = iter(gaps)
        for item, item_kinds in zip(items, kinds, strict=True):
            for kind in item_kinds:
                clock += timedelta(seconds=max(1, round(next(gap_iter) * scale)))
                self.rows.media.append(self._media_row(inspection_id, item, kind, clock))
        if soft_quota:
            self._soft_delete(self.rows.media[first:], soft_quota)
        return clock

    def _kinds(self, plan: InspectionPlan, items: Sequence[Row]) -> list[list[str]]:
        """Per item, the kind of each of its photos: "good" or a key of BAD_MEDIA_KEYS."""
        counts = self._photo_counts(plan, items)
        kinds: list[list[str]] = [["good"] * c for c in counts]
        if plan.kind == "bad":
            # All broken rows on one item, among good photos, so one click shows every error.
            target = next(
                (i for i, r in enumerate(items) if r["result"] != ItemResult.PENDING.value), 0
            )
            row_kinds = ["good"] * min(4, max(1, counts[target])) + list(BAD_MEDIA_KEYS)
            self.rng.shuffle(row_kinds)
            kinds[target] = row_kinds
        return kinds

    def _gaps(self, kinds: Sequence[Sequence[str]], *, large: bool) -> list[float]:
        """Seconds before each shot: walking to the next item, then a few seconds per photo."""
        rng = self.rng
        gaps: list[float] = []
        for item_kinds in kinds:
            for n in range(len(item_kinds)):
                walk = rng.uniform(10, 60) if large else rng.uniform(30, 150)
                gaps.append((walk if n == 0 else 0.0) + rng.uniform(3, 15 if large else 30))
        return gaps

    def _soft_delete(self, media: Sequence[Row], quota: int) -> None:
        rng = self.rng
        good = [r for r in media if not r["storage_key"].startswith(BAD_MEDIA_PREFIX)]
        for row in rng.sample(good, min(quota, len(good))):
            row["deleted_at"] = row["created_at"] + timedelta(minutes=rng.randint(2, 90))
            row["caption"] = "Blurry, retaken"
            self.rows.soft_deleted += 1

    def _photo_counts(self, plan: InspectionPlan, items: Sequence[Row]) -> list[int]:
        rng = self.rng
        if plan.kind == "large":
            # The large one: spec.large_media live photos plus the soft-deleted, spread unevenly.
            total = self.large_media + LARGE_SOFT_DELETED
            weights = [
                rng.uniform(0.3, 3.0) * (2.5 if r["result"] == ItemResult.FAIL.value else 1)
                for r in items
            ]
            counts = [0] * len(items)
            for i in rng.choices(range(len(items)), weights=weights, k=total):
                counts[i] += 1
            return counts
        if plan.scheduled_at > ANCHOR:
            return [0] * len(items)  # not visited yet
        counts = []
        for row in items:
            if row["result"] == ItemResult.PENDING.value and rng.random() < 0.9:
                counts.append(0)
                continue
            n = rng.choices(range(MAX_PHOTOS_PER_ITEM + 1), weights=PHOTO_COUNT_WEIGHTS)[0]
            if row["result"] == ItemResult.FAIL.value:
                n = min(MAX_PHOTOS_PER_ITEM, n + 1)
            counts.append(n)
        return counts

    def _media_row(self, inspection_id: int, item: Row, kind: str, captured_at: datetime) -> Row:
        rng = self.rng
        if kind == "good":
            candidates = self.by_section.get(item["section"]) or self.pool
            photo = rng.choice(candidates)
            key, caption = photo.storage_key, self._caption(item)
        else:
            photo = bad_source(self.pool)  # what the file was supposed to be
            key, caption = BAD_MEDIA_KEYS[kind], BAD_CAPTIONS[kind]
            self.rows.bad_media += 1
        return {
            "id": len(self.rows.media) + 1,
            "inspection_id": inspection_id,
            "checklist_item_id": item["id"],
            "storage_key": key,
            "mime_type": MIME_JPEG,
            "width": photo.width,
            "height": photo.height,
            "byte_size": photo.byte_size,
            "sha256": photo.sha256,
            "caption": caption,
            "captured_at": captured_at,
            "created_at": captured_at + timedelta(seconds=rng.randint(5, 600)),
            "deleted_at": None,
        }

    def _caption(self, item: Row) -> str | None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.08:
            return None
        title = base_title(str(item["title"]))
        if item["result"] == ItemResult.FAIL.value and roll < 0.45:
            return f"Defect: {DEFECTS[title]}"
        return f"{title} — {rng.choice(PHOTO_VIEWS)}"
