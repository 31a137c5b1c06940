"""Which inspection a new list opens on: the remembered one, else (at start-up) one with photos."""

from __future__ import annotations

from datetime import UTC, datetime

from db.records import InspectionSummary
from viewer.presenters.inspection_list import first_row


def _rec(reference: str, photos: int) -> InspectionSummary:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    return InspectionSummary(
        1, reference, "Site", "Address", "Inspector", "draft", when, None, photos
    )


ROWS = [_rec("INS-3", 0), _rec("INS-2", 0), _rec("INS-1", 12)]


def test_a_first_start_opens_the_newest_inspection_with_photos() -> None:
    assert first_row(ROWS, None, prefer_photos=True) == 2


def test_a_later_start_restores_the_last_selection_even_without_photos() -> None:
    assert first_row(ROWS, "INS-2", prefer_photos=True) == 1


def test_a_search_opens_its_first_match_and_a_list_without_photos_its_first_row() -> None:
    assert first_row(ROWS, None, prefer_photos=False) == 0
    assert first_row(ROWS[:2], "gone", prefer_photos=True) == 0
