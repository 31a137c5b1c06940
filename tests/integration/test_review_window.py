"""Review in the real window on the demo database: keys for verdicts and the next unreviewed
item, badges in the checklist and on thumbnails, the filter, flags in the photo viewer, the
state loaded in one counted statement and there again after a reload."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from sqlalchemy import Engine, event, text

from db.config import AppPaths, libpq_url
from db.demo import BAD_MEDIA_INSPECTION_REFERENCE, LARGE_INSPECTION_REFERENCE
from db.engine import Database
from viewer.models.checklist_tree import Column
from viewer.presenters.main import MainPresenter
from viewer.presenters.review import REVIEWER_KEY
from viewer.presenters.session import LiveDatabase
from viewer.thumbnails.cache import MIB, ThumbnailCache
from viewer.thumbnails.disk_cache import DiskThumbnailCache
from viewer.thumbnails.service import ThumbnailService
from viewer.widgets.main_window import MainWindow

REVIEWER = "Window Wanda"


@pytest.fixture
def running(qtbot, qasync_loop, demo_db, tmp_path: Path) -> Iterator[MainPresenter]:  # type: ignore[no-untyped-def]
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("selection/inspection", BAD_MEDIA_INSPECTION_REFERENCE)
    settings.setValue(REVIEWER_KEY, REVIEWER)  # asked once, remembered: here, already known
    window = MainWindow(settings)
    window.resize(1440, 860)
    qtbot.addWidget(window)
    paths = AppPaths(data_dir=tmp_path / "data", media_url=demo_db.media_dir.as_uri())
    thumbnails = ThumbnailService(
        ThumbnailCache(64 * MIB), DiskThumbnailCache(tmp_path / "thumbs"), workers=2
    )
    source = LiveDatabase(Database(paths, libpq_url(demo_db.engine.url)), paths)
    controller = MainPresenter(window, paths, source, thumbnails)
    window.show()
    with qtbot.waitSignal(controller.first_view_ready, timeout=60_000):
        controller.start()
    yield controller
    done = asyncio.ensure_future(controller.shutdown())
    qtbot.waitUntil(done.done, timeout=30_000)
    done.result()
    with demo_db.engine.begin() as conn:  # the demo stays as the other tests expect it
        conn.execute(text("DELETE FROM review_records WHERE reviewer = :r"), {"r": REVIEWER})


def _large_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT id FROM inspections WHERE reference_code = :r"),
                {"r": LARGE_INSPECTION_REFERENCE},
            ).scalar_one()
        )


def test_review_with_keys_badges_filter_and_viewer_flags_then_reload(  # type: ignore[no-untyped-def]
    running, qtbot, demo_db
) -> None:
    window, review = running.window, running.review
    large = _large_id(demo_db.engine)
    window.select_inspection_row(window.inspections.row_of(large))
    qtbot.waitUntil(lambda: review.state is not None and review.state.inspection_id == large)
    assert running.metrics.last("load_review").statement_count == 1

    selection = running.selection.selection
    qtbot.waitUntil(lambda: running.selection.selection is not None)
    selection = running.selection.selection
    first = next(e for e in selection.checklist if e.media_count >= 1)
    window.tree.setCurrentIndex(window.checklist.index_of_item(first.id))
    window.tree.setFocus()
    QTest.keyClick(window.tree, Qt.Key.Key_2)  # needs rework
    index = window.checklist.index_of_item(first.id)
    review_cell = index.siblingAtColumn(Column.REVIEW)
    qtbot.waitUntil(lambda: window.checklist.data(review_cell) == "Needs rework")
    assert review.pane.verdicts["needs_rework"].isChecked()

    QTest.keyClick(window.tree, Qt.Key.Key_N)  # next unreviewed item
    qtbot.waitUntil(lambda: review.item_id not in (None, first.id))
    review.set_filter("needs_rework")
    section = index.parent()
    shown = [
        r
        for r in range(window.checklist.rowCount(section))
        if not window.tree.isRowHidden(r, section)
    ]
    assert shown == [index.row()]
    review.set_filter("all")

    window.tree.setCurrentIndex(index)
    qtbot.waitUntil(lambda: window.media.rowCount() == first.media_count)
    window.media_pane.open_requested.emit(0)
    viewer = running.feed.viewer
    assert viewer is not None and viewer.review.isVisible()
    QTest.keyClick(viewer, Qt.Key.Key_E)  # flag: evidence
    photo = viewer.current.id
    qtbot.waitUntil(lambda: window.media_pane.delegate.flags.get(photo) == ("evidence", False))
    viewer.close()

    qtbot.waitUntil(lambda: not review.writing)  # every record is in the database
    review.state = None
    review.reload()  # what another window would load
    qtbot.waitUntil(lambda: review.state is not None)
    assert review.state.item(first.id).value == "needs_rework"
    assert review.state.photo(photo).value == "evidence"
    assert review.state.photo(photo).record.reviewer == REVIEWER


def test_the_photos_go_first_then_the_review_state_and_the_checklist(  # type: ignore[no-untyped-def]
    running, qtbot, demo_db
) -> None:
    """Their answers are handled on the GUI thread: both statements go out only once the grid
    has the selection's first rows, and both panes are still filled."""
    window = running.window
    assert running.loader is not None
    # The first photo in the grid when each statement went out.
    first_photo_when_sent: dict[str, int | None] = {}

    def sent(_conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
        for name in ("review_records", "checklist_items"):
            if name in statement and "get_inspection_media_" not in statement:
                item = window.media.item(0)
                first_photo_when_sent.setdefault(name, item.id if item is not None else None)

    engine = running.loader.engine.sync_engine
    event.listen(engine, "before_cursor_execute", sent)
    try:
        large = _large_id(demo_db.engine)
        with demo_db.engine.connect() as conn:
            photos = set(
                conn.execute(
                    text("SELECT id FROM media WHERE inspection_id = :i"), {"i": large}
                ).scalars()
            )
        window.select_inspection_row(window.inspections.row_of(large))
        review = running.review
        qtbot.waitUntil(lambda: review.state is not None and review.state.inspection_id == large)
        qtbot.waitUntil(lambda: running.selection.selection is not None)
    finally:
        event.remove(engine, "before_cursor_execute", sent)
    assert first_photo_when_sent["review_records"] in photos
    assert first_photo_when_sent["checklist_items"] in photos
    assert window.checklist.rowCount() > 0
