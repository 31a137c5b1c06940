"""The running app (real widgets, qasync loop, real database) loads an inspection's media in
one batch call, as the server itself counts it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QSettings
from sqlalchemy import text

from db.config import AppPaths, libpq_url
from db.demo import BAD_MEDIA_INSPECTION_REFERENCE, LARGE_INSPECTION_REFERENCE
from db.engine import Database
from viewer.presenters.main import MainPresenter
from viewer.presenters.session import LiveDatabase
from viewer.thumbnails.cache import MIB, ThumbnailCache
from viewer.thumbnails.service import ThumbnailService
from viewer.widgets.main_window import MainWindow

# The window loads through the stream function (revision 0006).
STREAM_PATTERN = "%FROM get_inspection_media_stream(%"
PER_ITEM_PATTERN = "%WHERE media.checklist_item_id = %"


def test_opening_an_inspection_makes_one_batch_call_and_no_per_item_query(  # type: ignore[no-untyped-def]
    qtbot, qasync_loop, demo_db, server_calls, tmp_path: Path
) -> None:
    engine = demo_db.engine
    with engine.connect() as conn:
        large_id = conn.execute(
            text("SELECT id FROM inspections WHERE reference_code = :r"),
            {"r": LARGE_INSPECTION_REFERENCE},
        ).scalar_one()
        live = conn.execute(
            text("SELECT count(*) FROM media WHERE inspection_id = :i AND deleted_at IS NULL"),
            {"i": large_id},
        ).scalar_one()
    # Start on an inspection other than the large one (a first start would open the newest
    # inspection with photos, which is the large one), so that selecting it is a real load.
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("selection/inspection", BAD_MEDIA_INSPECTION_REFERENCE)
    window = MainWindow(settings)
    qtbot.addWidget(window)
    paths = AppPaths(data_dir=tmp_path / "data", media_url=(demo_db.media_dir).as_uri())
    thumbnails = ThumbnailService(ThumbnailCache(16 * MIB), workers=1)
    controller = MainPresenter(
        window, paths, LiveDatabase(Database(paths, libpq_url(engine.url)), paths), thumbnails
    )
    # The first inspection of the list is selected and loaded on start.
    with qtbot.waitSignal(controller.first_view_ready, timeout=60_000):
        controller.start()

    stream_before = server_calls(engine, STREAM_PATTERN)
    per_item_before = server_calls(engine, PER_ITEM_PATTERN)
    window.select_inspection_row(window.inspections.row_of(large_id))
    qtbot.waitUntil(
        lambda: (
            controller.selection.selection is not None
            and controller.selection.selection.inspection_id == large_id
        ),
        timeout=30_000,
    )

    action = controller.metrics.last("load_media")
    assert action is not None and action.label == f"load_media inspection={large_id}"
    assert (action.statement_count, action.strategy) == (1, "batch")
    assert server_calls(engine, STREAM_PATTERN) - stream_before == 1
    assert server_calls(engine, PER_ITEM_PATTERN) - per_item_before == 0
    assert window.media.rowCount() == live
    assert window.load_label.text().endswith("1 statement (batch)")

    done = asyncio.ensure_future(controller.shutdown())
    qtbot.waitUntil(done.done, timeout=30_000)
