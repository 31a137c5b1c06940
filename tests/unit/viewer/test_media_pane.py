"""The grid's thumbnail size: slider, keys and wheel, clamped, remembered with the window."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from viewer.widgets.main_window import MainWindow
from viewer.widgets.panes.media import (
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
    assert pane.grid.gridSize().width() == DEFAULT_THUMBNAIL_PX + 32 + 10
    pane.set_thumbnail_px(10_000)
    assert pane.thumbnail_px == MAX_THUMBNAIL_PX == pane.size_slider.value()
    pane.set_thumbnail_px(-5)
    assert pane.thumbnail_px == MIN_THUMBNAIL_PX
    with qtbot.assertNotEmitted(pane.thumbnail_size_changed):
        pane.set_thumbnail_px(MIN_THUMBNAIL_PX + 3)  # rounds to the same step


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
