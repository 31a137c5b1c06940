"""A 20,000-photo inspection streams in: one statement, first rows on screen before the last."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import URL

from db.config import AppPaths, libpq_url
from db.engine import Database, make_async_engine, make_engine
from db.loader import MediaBatchLoader
from db.media import (
    STREAM_CHUNK_ROWS,
    STREAM_FIRST_CHUNK_ROWS,
    load_inspection_media,
    stream_inspection_media,
)
from db.metrics import QueryMetrics
from db.migrate import upgrade
from db.performance import STREAM_FUNCTION
from db.records import MediaItem
from db.selection import Selection, SelectionLoader
from viewer.presenters.main import MainPresenter
from viewer.presenters.session import LiveDatabase
from viewer.thumbnails.cache import MIB, ThumbnailCache
from viewer.thumbnails.service import ThumbnailService
from viewer.widgets.main_window import MainWindow

ITEMS, PER_ITEM = 1_000, 20
PHOTOS = ITEMS * PER_ITEM
BATCH_PATTERN = "%FROM get_inspection_media_batch(%"
STREAM_PATTERN = "%FROM get_inspection_media_stream(%"


@pytest.fixture(scope="module")
def huge(create_database: Callable[[str], URL]) -> Iterator[tuple[Engine, int]]:
    """One inspection of 1,000 items x 20 photos (rows only: no photo files)."""
    engine = make_engine(create_database("huge"))
    upgrade(engine)
    with engine.begin() as conn:
        inspection_id = conn.execute(
            text(
                "INSERT INTO inspections (reference_code, site_name, address, inspector_name,"
                " status, scheduled_at) VALUES ('HUGE-1', 'Huge site', '1 Long Road',"
                " 'Inspector', 'in_progress', now()) RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO checklist_items (inspection_id, section, position, title)"
                " SELECT :i, 'Section ' || (g / 100), g, 'Item ' || g"
                " FROM generate_series(1, :n) AS g"
            ),
            {"i": inspection_id, "n": ITEMS},
        )
        conn.execute(
            text(
                "INSERT INTO media (inspection_id, checklist_item_id, storage_key, mime_type,"
                " width, height, byte_size, sha256, caption, captured_at)"
                " SELECT :i, ci.id, 'huge/' || ci.id || '-' || p || '.jpg', 'image/jpeg',"
                "        4032, 3024, 2000000, md5(ci.id || '-' || p) || md5(p::text),"
                "        'Photo ' || p, timestamptz '2026-01-01' + p * interval '1 minute'"
                " FROM checklist_items ci, generate_series(1, :p) AS p"
                " WHERE ci.inspection_id = :i"
            ),
            {"i": inspection_id, "p": PER_ITEM},
        )
        conn.execute(text("ANALYZE checklist_items, media"))
    yield engine, int(inspection_id)
    engine.dispose()


def test_the_batch_streams_in_chunks_as_one_counted_statement(
    huge: tuple[Engine, int], server_calls: Callable[[Engine, str], int]
) -> None:
    engine, inspection_id = huge
    metrics = QueryMetrics()
    chunks: list[tuple[int, int]] = []

    async def load() -> tuple[object, object]:
        aengine = make_async_engine(engine.url)
        metrics.instrument(aengine.sync_engine)
        try:
            async with aengine.connect() as conn:
                with metrics.action("load_media", inspection=inspection_id):
                    streamed = await stream_inspection_media(
                        conn,
                        inspection_id,
                        lambda offset, rows: chunks.append((offset, len(rows))),
                    )
                whole = await load_inspection_media(conn, inspection_id)
            return streamed, whole
        finally:
            await aengine.dispose()

    before = server_calls(engine, STREAM_PATTERN), server_calls(engine, BATCH_PATTERN)
    streamed, whole = asyncio.run(load())
    assert streamed == whole
    # The streamed load through the stream function, the whole one through the batch function.
    after = server_calls(engine, STREAM_PATTERN), server_calls(engine, BATCH_PATTERN)
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)
    # A screenful first, then the larger chunks, each starting where the last one ended.
    assert chunks[0] == (0, STREAM_FIRST_CHUNK_ROWS)
    assert all(n == STREAM_CHUNK_ROWS for _, n in chunks[1:-1])
    assert sum(n for _, n in chunks) == PHOTOS
    assert [offset for offset, _ in chunks] == [
        sum(n for _, n in chunks[:i]) for i in range(len(chunks))
    ]
    action = metrics.last("load_media")
    assert action is not None and action.statement_count == 1
    assert action.statements[0].rows == PHOTOS


def test_the_first_rows_reach_the_grid_before_the_last_row_has_arrived(  # type: ignore[no-untyped-def]
    qtbot, qasync_loop, huge: tuple[Engine, int], tmp_path: Path
) -> None:
    engine, _ = huge
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    window.resize(1440, 860)
    qtbot.addWidget(window)
    paths = AppPaths(data_dir=tmp_path / "data", media_url=(tmp_path / "media").as_uri())
    thumbnails = ThumbnailService(ThumbnailCache(16 * MIB), workers=1)
    presenter = MainPresenter(
        window, paths, LiveDatabase(Database(paths, libpq_url(engine.url)), paths), thumbnails
    )
    # While the load is incomplete (no selection delivered), how many rows the grid had.
    seen_while_loading: list[int] = []

    def observe(*_args: object) -> None:
        if presenter.selection.selection is None:
            seen_while_loading.append(window.media.rowCount())

    window.media.rowsInserted.connect(observe)
    window.media.modelReset.connect(observe)
    window.show()
    try:
        with qtbot.waitSignal(presenter.first_view_ready, timeout=60_000):
            presenter.start()  # the only inspection: selected at once
        qtbot.waitUntil(lambda: presenter.selection.selection is not None, timeout=60_000)
        qtbot.waitUntil(lambda: window.media.rowCount() == PHOTOS, timeout=30_000)
        assert any(0 < rows < PHOTOS for rows in seen_while_loading), seen_while_loading[:5]
        ids = [m.id for m in window.media.media()]
        assert len(set(ids)) == PHOTOS, "every photo once, none repeated by the streaming"
        assert isinstance(window.media.media()[0], MediaItem)
        action = presenter.metrics.last("load_media")
        assert action is not None and (action.statement_count, action.strategy) == (1, "batch")
        assert window.media_pane.title.text() == f"All media · {PHOTOS:,} photos"
    finally:
        done = asyncio.ensure_future(presenter.shutdown())
        qtbot.waitUntil(done.done, timeout=30_000)
        done.result()


def test_the_checklist_statement_waits_for_the_first_rows(huge: tuple[Engine, int]) -> None:
    """Both answers are handled on the GUI thread: the photos' first rows must not queue
    behind the checklist's. The checklist is still loaded and delivered with the media."""
    engine, inspection_id = huge
    events: list[str] = []
    delivered: list[Selection] = []

    async def load() -> None:
        aengine = make_async_engine(engine.url)

        def sent(_conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
            if "checklist_items" in statement and "get_inspection_media_" not in statement:
                events.append("checklist sent")

        event.listen(aengine.sync_engine, "before_cursor_execute", sent)
        metrics = QueryMetrics()
        metrics.instrument(aengine.sync_engine)
        loader = SelectionLoader(
            MediaBatchLoader(aengine, metrics),
            delivered.append,
            lambda exc: events.append(f"failed: {exc}"),
            partial=lambda _id, offset, rows: events.append(f"rows {offset}"),
        )
        try:
            loader.select(inspection_id)
            await loader.wait()
        finally:
            await aengine.dispose()

    asyncio.run(load())
    assert events.index("rows 0") < events.index("checklist sent")
    assert events.count("checklist sent") == 1
    assert not [e for e in events if e.startswith("failed")]
    assert [s.inspection_id for s in delivered] == [inspection_id]
    assert len(delivered[0].checklist) == ITEMS
    assert delivered[0].media.media.count == PHOTOS


def test_the_server_sorts_a_huge_inspection_one_item_at_a_time(huge: tuple[Engine, int]) -> None:
    """Revision 0006: the stream function is inlined, and its plan sorts each item's photos as
    they are read (an Incremental Sort over the items in position order), so the server sends
    the first rows at once. A full Sort (or a Function Scan) would hold them all first. The
    planner chooses it by cost, with the tables' statistics (the fixture analyses them, as
    autovacuum does)."""
    engine, inspection_id = huge
    with engine.connect() as conn:
        plan = conn.execute(
            text(f"EXPLAIN (FORMAT JSON) SELECT * FROM {STREAM_FUNCTION}(CAST(:i AS bigint))"),
            {"i": inspection_id},
        ).scalar_one()
    nodes: list[str] = []
    stack = [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        nodes.append(node["Node Type"])
        stack.extend(node.get("Plans", []))
    assert "Incremental Sort" in nodes, nodes
    assert "Sort" not in nodes and "Function Scan" not in nodes, nodes


def _temp_blocks(conn: Connection) -> int:
    """Temporary-file blocks the server wrote for the probe statement below (nested work
    included: pg_stat_statements counts a function's sorts under the statement calling it)."""
    return int(
        conn.execute(
            text(
                "SELECT coalesce(sum(temp_blks_written), 0) FROM pg_stat_statements"
                " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND query LIKE :p"
            ),
            {"p": "SELECT max(media_id) - min(media_id) FROM get_inspection_media_batch(%"},
        ).scalar_one()
    )


def _probe(conn: Connection, inspection_id: int) -> None:
    conn.execute(
        text("SELECT max(media_id) - min(media_id) FROM get_inspection_media_batch(:i)"),
        {"i": inspection_id},
    )


def test_the_batch_of_a_huge_inspection_sorts_in_memory(huge: tuple[Engine, int]) -> None:
    """Revision 0005: the function runs with its own work_mem, whatever the caller's, so the
    20,000 rows it sorts and holds before sending the first never go to disk."""
    engine, inspection_id = huge
    with engine.connect() as conn:
        # A caller's small work_mem: the 20,000 rows (3.8 MB here) would not fit in it.
        conn.execute(text("SET work_mem = '1MB'"))
        before = _temp_blocks(conn)
        _probe(conn, inspection_id)
        assert _temp_blocks(conn) == before
        # Without the revision's setting the same call spills: what the check above detects.
        conn.execute(text("ALTER FUNCTION get_inspection_media_batch(bigint) RESET work_mem"))
        _probe(conn, inspection_id)
        assert _temp_blocks(conn) > before
        conn.rollback()  # the ALTER too: DDL is transactional here
    with engine.connect() as conn:
        config = conn.execute(
            text("SELECT proconfig FROM pg_proc WHERE oid = 'get_inspection_media_batch'::regproc")
        ).scalar_one()
    assert config == ["work_mem=32MB"]
