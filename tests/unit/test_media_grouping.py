"""db.media.group_media: one group per checklist item, whatever order the item's rows come in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from db.media import MediaGrouper, group_items, group_media
from db.records import MediaItem

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def row(media_id: int, item_id: int, position: int, minute: int) -> tuple[Any, ...]:
    """A batch row in MediaItem's column order."""
    return (
        media_id,
        item_id,
        f"photos/{media_id}.jpg",
        "image/jpeg",
        640,
        480,
        1234,
        "a" * 64,
        None,
        T0 + timedelta(minutes=minute),
        position,
    )


def test_rows_of_one_item_that_arrive_apart_make_one_group() -> None:
    # Items 20 and 10 share position 1, and a server on revision 0002's order interleaved their
    # photos by capture time; item 30 is at position 2.
    rows = [row(1, 20, 1, 0), row(2, 10, 1, 1), row(3, 20, 1, 2), row(4, 10, 1, 3)]
    rows += [row(5, 20, 1, 4), row(6, 30, 2, 5)]

    media = group_media(7, rows)

    assert [g.checklist_item_id for g in media.items] == [10, 20, 30]  # position, then item id
    assert [m.id for m in media.for_item(20)] == [1, 3, 5]
    assert [m.id for m in media.for_item(10)] == [2, 4]
    assert [m.id for m in media.for_item(30)] == [6]
    assert [g.position for g in media.items] == [1, 1, 2]
    assert media.count == 6
    assert [m.id for m in media.all_media()] == [2, 4, 1, 3, 5, 6]


def test_rows_already_in_display_order_group_as_they_come() -> None:
    rows = [row(1, 10, 1, 3), row(2, 10, 1, 4), row(3, 20, 1, 0), row(4, 30, 2, 1)]

    media = group_media(7, rows)

    assert [(g.checklist_item_id, [m.id for m in g.media]) for g in media.items] == [
        (10, [1, 2]),
        (20, [3]),
        (30, [4]),
    ]
    assert group_media(7, []).items == ()


@given(
    items=st.lists(st.tuples(st.integers(1, 6), st.integers(0, 3)), max_size=40),
    cuts=st.lists(st.integers(0, 40), max_size=6),
)
def test_grouping_in_steps_as_rows_stream_in_is_grouping_them_at_once(
    items: list[tuple[int, int]], cuts: list[int]
) -> None:
    """The streamed load groups each chunk as it arrives: wherever the chunks split an item's
    run, the result is the one grouping all rows at once gives."""
    rows = [
        MediaItem._make(row(n, item_id, position, n)) for n, (item_id, position) in enumerate(items)
    ]
    grouper = MediaGrouper()
    bounds = sorted({0, len(rows), *(c for c in cuts if c <= len(rows))})
    for start, end in pairwise(bounds):
        grouper.add(rows[start:end])
    assert grouper.result(7) == group_items(7, rows)
