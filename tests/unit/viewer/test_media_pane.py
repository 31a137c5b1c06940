"""The grid's thumbnail size: slider, keys and wheel, clamped, remembered with the window."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QPointF, QRect, QSettings, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from db.records import MediaItem
from viewer.widgets.main_window import MainWindow
from viewer.widgets.panes.media import (
    CELL_MARGIN_PX,
    DEFAULT_THUMBNAIL_PX,
    MAX_THUMBNAIL_PX,
    MIN_THUMBNAIL_PX,
)


def _window(qtbot: Any, settings: QSettings | None = None) -> MainWindow:
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.resize(1440, 860)
    return window


def test_the_size_is_clamped_stepped_and_announced(qtbot: Any) -> None:
    pane = _window(qtbot).media_pane
    assert pane.thumbnail_px == DEFAULT_THUMBNAIL_PX
    with qtbot.waitSignal(pane.thumbnail_size_changed) as blocker:
        pane.step_thumbnail_size(2)
    assert blocker.args == [DEFAULT_THUMBNAIL_PX + 32]
    assert pane.grid.iconSize().width() == DEFAULT_THUMBNAIL_PX + 32
    assert pane.grid.gridSize().width() >= DEFAULT_THUMBNAIL_PX + 32 + CELL_MARGIN_PX
    pane.set_thumbnail_px(10_000)
    assert pane.thumbnail_px == MAX_THUMBNAIL_PX == pane.size_slider.value()
    pane.set_thumbnail_px(-5)
    assert pane.thumbnail_px == MIN_THUMBNAIL_PX
    with qtbot.assertNotEmitted(pane.thumbnail_size_changed):
        pane.set_thumbnail_px(MIN_THUMBNAIL_PX + 3)  # rounds to the same step


def _photos(count: int) -> list[MediaItem]:
    when = datetime.datetime(2026, 5, 1, 9, 30)
    return [
        MediaItem(n, 1, f"site/{n}.jpg", "image/jpeg", 4032, 3024, 1, "0" * 64, None, when, 1)
        for n in range(1, count + 1)
    ]


def _first_row(pane: Any) -> list[QRect]:
    """Where the grid has laid out the cells of its first row."""
    rects = [pane.grid.visualRect(pane.model.index(row)) for row in range(pane.model.rowCount())]
    return [rect for rect in rects if rect.top() == rects[0].top()]


def test_the_cells_fill_the_grid_width_at_any_size_and_window_width(qtbot: Any) -> None:
    """The columns that fit at the chosen size share the width: no empty strip at the right
    (it was up to a whole cell: 74 px at 1440 px), and no column fewer than fits."""
    window = _window(qtbot)
    window.show_main()
    window.show()
    qtbot.waitExposed(window)
    window.show_media(_photos(60), "All media", "No media")
    pane = window.media_pane
    viewport = pane.grid.viewport()
    for width, px in ((1440, DEFAULT_THUMBNAIL_PX), (1024, 256), (1900, MIN_THUMBNAIL_PX)):
        window.resize(width, 860)
        pane.set_thumbnail_px(px)
        qtbot.waitUntil(lambda: pane.columns() == len(_first_row(pane)))
        row = _first_row(pane)
        base = px + CELL_MARGIN_PX
        assert pane.grid.verticalScrollBar().isVisible()
        assert 0 <= viewport.width() - (row[-1].right() + 1) <= len(row)
        assert all(rect.width() >= base for rect in row)
        assert (len(row) + 1) * base > viewport.width()  # one more would not fit
        assert pane.delegate.sizeHint(None, None) == pane.grid.gridSize()  # type: ignore[arg-type]


def test_a_narrow_pane_keeps_its_title_on_one_line_and_elides_it(qtbot: Any) -> None:
    """Squeezed by a docked panel, the title ends in "..." (the whole of it in the tooltip)
    instead of wrapping over three lines beside the size slider."""
    window = _window(qtbot)
    window.show_main()
    window.show()
    qtbot.waitExposed(window)
    title = "Structure · Load-bearing walls undamaged and plumb · 1,100 photos"
    window.show_media(_photos(6), title, "No media")
    status = window.media_pane.status
    status.setText("1,100 loaded in 28 ms")  # it was elided at the very width it asked for
    label = window.media_pane.title
    one_line = label.fontMetrics().height()
    qtbot.waitUntil(lambda: label.shown_text() == title)
    assert label.toolTip() == ""
    qtbot.waitUntil(lambda: status.shown_text() == status.text())  # room enough: both whole
    window.splitter.setSizes([700, 600, 140])
    qtbot.waitUntil(lambda: label.shown_text() != title)
    assert label.text() == title
    assert label.shown_text().endswith("…")
    assert title.startswith(label.shown_text()[:-1])
    assert label.toolTip() == title
    assert label.height() < 2 * one_line
    window.splitter.setSizes([300, 300, 840])
    qtbot.waitUntil(lambda: label.shown_text() == title)
    assert label.toolTip() == ""


def test_ctrl_wheel_and_the_view_menu_resize_thumbnails(qtbot: Any) -> None:
    window = _window(qtbot)
    pane = window.media_pane
    start = pane.thumbnail_px
    viewport = pane.grid.viewport()
    wheel = QWheelEvent(
        QPointF(10, 10),
        QPointF(viewport.mapToGlobal(QPoint(10, 10))),
        QPoint(),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, wheel)
    assert pane.thumbnail_px == start + 16
    window.smaller_action.trigger()
    window.smaller_action.trigger()
    assert pane.thumbnail_px == start - 16


def test_the_size_survives_a_restart_and_garbage_in_settings_is_ignored(
    qtbot: Any, tmp_path: Path
) -> None:
    path = str(tmp_path / "settings.ini")
    window = _window(qtbot, QSettings(path, QSettings.Format.IniFormat))
    window.media_pane.set_thumbnail_px(256)
    window.save_settings()
    again = _window(qtbot, QSettings(path, QSettings.Format.IniFormat))
    assert again.media_pane.thumbnail_px == 256

    settings = QSettings(path, QSettings.Format.IniFormat)
    settings.setValue("grid/thumbnail_px", "huge; DROP TABLE")
    settings.sync()
    third = _window(qtbot, QSettings(path, QSettings.Format.IniFormat))
    assert third.media_pane.thumbnail_px == DEFAULT_THUMBNAIL_PX


def test_thumbnails_decode_at_the_screen_pixel_ratio_on_a_hidpi_screen() -> None:
    """QT_SCALE_FACTOR=2 in a process of its own (the ratio is fixed when Qt starts)."""
    script = (
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from viewer.widgets.main_window import MainWindow\n"
        "w = MainWindow(); w.show()\n"
        "print(w.media_pane.thumbnail_px, w.media_pane.decode_px())\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "2"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    logical, device = map(int, done.stdout.split()[-2:])
    assert device == 2 * logical


def test_the_grid_and_its_size_control_have_names_for_screen_readers(qtbot: Any) -> None:
    pane = _window(qtbot).media_pane
    assert pane.grid.accessibleName() == "Photos of the selected inspection"
    assert pane.size_slider.accessibleName() == "Thumbnail size"
