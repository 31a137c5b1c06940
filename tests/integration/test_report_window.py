"""File > Export Report... in the real window on the demo database: the selected inspection's
PDF, its content from the window's loader, drawn by the dialog's worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog

from db.config import AppPaths, libpq_url
from db.demo import BAD_MEDIA_INSPECTION_REFERENCE
from db.engine import Database
from tests.pdf_tools import embedded_images, pages_text, require_poppler
from viewer.presenters.main import MainPresenter
from viewer.presenters.report import PHOTO_FILTERS
from viewer.presenters.session import LiveDatabase
from viewer.report import PhotoChoice
from viewer.thumbnails.cache import MIB, ThumbnailCache
from viewer.thumbnails.service import ThumbnailService
from viewer.widgets.main_window import MainWindow


@pytest.fixture
def presenter(qtbot, qasync_loop, demo_db, tmp_path: Path) -> Iterator[MainPresenter]:  # type: ignore[no-untyped-def]
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("selection/inspection", BAD_MEDIA_INSPECTION_REFERENCE)
    window = MainWindow(settings)
    qtbot.addWidget(window)
    paths = AppPaths(data_dir=tmp_path / "data", media_url=demo_db.media_dir.as_uri())
    thumbnails = ThumbnailService(ThumbnailCache(16 * MIB), None, workers=1)
    controller = MainPresenter(
        window,
        paths,
        LiveDatabase(Database(paths, libpq_url(demo_db.engine.url)), paths),
        thumbnails,
    )
    window.show()
    with qtbot.waitSignal(controller.first_view_ready, timeout=60_000):
        controller.start()
    yield controller
    done = asyncio.ensure_future(controller.shutdown())
    qtbot.waitUntil(done.done, timeout=30_000)
    done.result()


def test_export_report_writes_the_selected_inspection_in_a_worker(  # type: ignore[no-untyped-def]
    presenter: MainPresenter, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_poppler()
    window = presenter.window
    selected = window.selected_inspection()
    assert selected is not None and selected.reference_code == BAD_MEDIA_INSPECTION_REFERENCE
    target = tmp_path / "chosen"  # the suffix is added when the user leaves it out
    all_photos = next(f for f, c in PHOTO_FILTERS.items() if c is PhotoChoice.ALL)
    asked: list[Any] = []

    def save_dialog(*args: Any) -> tuple[str, str]:
        asked.append(args)
        return str(target), all_photos

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)

    window.export_report_action.trigger()
    assert asked, "the save dialog was shown"
    export = presenter.actions.report
    qtbot.waitUntil(lambda: export.dialog is not None, timeout=30_000)
    dialog = export.dialog
    assert dialog is not None and dialog.windowTitle() == "Export Report"
    with qtbot.waitSignal(dialog.export_finished, timeout=60_000):
        pass
    assert dialog.wait(5)
    pdf = tmp_path / "chosen.pdf"
    assert "Saved chosen.pdf" in dialog.outcome.text()
    assert all(BAD_MEDIA_INSPECTION_REFERENCE in page for page in pages_text(pdf))
    assert len(embedded_images(pdf)) > 50, "all photos, as the chosen file type says"
    dialog.close()
