"""Checklist items that share a position (nothing in the schema forbids it): each item keeps all
its photos on the batch path, exactly as on the per-item fallback (revision 0003)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL

from db.engine import make_async_engine, make_engine
from db.media import load_checklist, load_inspection_media, load_media_per_item
from db.migrate import upgrade
from db.performance import BATCH_FUNCTION, BATCH_QUERY_SQL, STREAM_FUNCTION, STREAM_QUERY_SQL
from db.records import ChecklistEntry, InspectionMedia

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class SharedPositions:
    """One inspection whose items A and B both sit at position 1, photos taken alternately."""

    inspection: int
    first: int  # A: the lower id
    second: int  # B
    later: int  # C at position 2, whose photos were all taken before A's and B's
    photos: dict[int, list[int]]  # item id -> its photo ids in capture order


def insert_shared_positions(conn: Connection, reference: str = "SHARED-1") -> SharedPositions:
    inspection = conn.execute(
        text(
            "INSERT INTO inspections (reference_code, site_name, address, inspector_name,"
            " scheduled_at) VALUES (:ref, 'Depot', '1 Quay Road', 'A. Inspector', :t0)"
            " RETURNING id"
        ),
        {"ref": reference, "t0": T0},
    ).scalar_one()

    def item(position: int, title: str) -> int:
        return int(
            conn.execute(
                text(
                    "INSERT INTO checklist_items (inspection_id, section, position, title)"
                    " VALUES (:i, 'Structure', :p, :t) RETURNING id"
                ),
                {"i": inspection, "p": position, "t": title},
            ).scalar_one()
        )

    def photo(item_id: int, minutes: int) -> int:
        return int(
            conn.execute(
                text(
                    "INSERT INTO media (inspection_id, checklist_item_id, storage_key, mime_type,"
                    " width, height, byte_size, sha256, captured_at)"
                    " VALUES (:i, :item, 'photos/' || gen_random_uuid() || '.jpg', 'image/jpeg',"
                    " 640, 480, 1234, repeat('a', 64), :at) RETURNING id"
                ),
                {"i": inspection, "item": item_id, "at": T0 + timedelta(minutes=minutes)},
            ).scalar_one()
        )

    later = item(2, "Roof")  # inserted first: the lowest id, shown last
    first, second = item(1, "Walls"), item(1, "Floor")
    photos: dict[int, list[int]] = {first: [], second: [], later: []}
    for minute, owner in enumerate([first, second, first, second, first]):
        photos[owner].append(photo(owner, minute))
    photos[later] = [photo(later, -10), photo(later, -5)]
    return SharedPositions(inspection, first, second, later, photos)


@pytest.fixture(scope="module")
def shared_engine(
    create_database: Callable[[str], URL],
) -> Iterator[tuple[Engine, SharedPositions]]:
    """A migrated database of its own (the app's async engine needs committed rows)."""
    engine = make_engine(create_database("shared"))
    upgrade(engine)
    with engine.begin() as conn:
        data = insert_shared_positions(conn)
    yield engine, data
    engine.dispose()


async def _batch_and_fallback(
    url: URL, inspection: int
) -> tuple[tuple[ChecklistEntry, ...], InspectionMedia, InspectionMedia]:
    engine = make_async_engine(url)
    try:
        async with engine.connect() as conn:
            checklist = await load_checklist(conn, inspection)
            batch = await load_inspection_media(conn, inspection)
            # The fallback gets the checklist in an order of its own: it must not matter.
            fallback = await load_media_per_item(conn, inspection, checklist[::-1])
        return checklist, batch, fallback
    finally:
        await engine.dispose()


def test_items_sharing_a_position_each_get_all_their_photos_as_on_the_fallback(
    shared_engine: tuple[Engine, SharedPositions],
) -> None:
    engine, data = shared_engine

    checklist, batch, fallback = asyncio.run(_batch_and_fallback(engine.url, data.inspection))

    # The checklist breaks the tie by id, and so do the media groups.
    assert [e.id for e in checklist] == [data.first, data.second, data.later]
    assert [g.checklist_item_id for g in batch.items] == [data.first, data.second, data.later]
    for entry in checklist:
        got = [m.id for m in batch.for_item(entry.id)]
        assert got == data.photos[entry.id], entry.title
        assert len(got) == entry.media_count
    assert batch == fallback
    assert [m.id for m in batch.all_media()] == [
        *data.photos[data.first],
        *data.photos[data.second],
        *data.photos[data.later],
    ]


def test_batch_and_stream_functions_and_queries_keep_each_items_rows_together(
    shared_engine: tuple[Engine, SharedPositions],
) -> None:
    engine, data = shared_engine
    expected = [
        *data.photos[data.first],
        *data.photos[data.second],
        *data.photos[data.later],
    ]

    statements = {
        "batch function": f"SELECT media_id FROM {BATCH_FUNCTION}(:inspection_id)",
        "batch query": BATCH_QUERY_SQL,
        "stream function": f"SELECT media_id FROM {STREAM_FUNCTION}(:inspection_id)",
        "stream query": STREAM_QUERY_SQL,
    }
    with engine.connect() as conn:
        got = {
            name: list(conn.execute(text(sql), {"inspection_id": data.inspection}).scalars())
            for name, sql in statements.items()
        }
        conn.rollback()  # the batch function logs its call

    assert got == dict.fromkeys(statements, expected)
