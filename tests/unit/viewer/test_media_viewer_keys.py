"""The photo viewer's keys (F11 full screen, Ctrl+Plus / Ctrl+Minus zoom) and its file size in
the user's locale, with the unit it really is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QImage

from db.records import MediaItem
from viewer.widgets.media_viewer import MediaViewer


def _viewer(qtbot: Any, byte_size: int) -> MediaViewer:
    item = MediaItem(
        1, 1, "a/b.jpg", "image/jpeg", 800, 600, byte_size, "0" * 64, None, datetime(2026, 1, 2), 0
    )
    viewer = MediaViewer([item], 0, describe=str, item_titles={})
    qtbot.addWidget(viewer)
    viewer.show()
    image = QImage(800, 600, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.gray)
    viewer.show_image(1, image)
    return viewer


def test_f11_toggles_full_screen(qtbot: Any) -> None:
    viewer = _viewer(qtbot, 1000)
    qtbot.keyClick(viewer, Qt.Key.Key_F11)
    assert viewer.windowState() & Qt.WindowState.WindowFullScreen
    qtbot.keyClick(viewer, Qt.Key.Key_F11)
    assert not viewer.windowState() & Qt.WindowState.WindowFullScreen


def test_ctrl_plus_and_ctrl_minus_zoom(qtbot: Any) -> None:
    viewer = _viewer(qtbot, 1000)
    fitted = viewer.view.transform().m11()
    qtbot.keyClick(viewer, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert viewer.view.transform().m11() > fitted
    qtbot.keyClick(viewer, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(viewer, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert viewer.view.transform().m11() < fitted


def test_the_file_size_is_in_the_locale_and_in_kib(qtbot: Any) -> None:
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    try:
        viewer = _viewer(qtbot, 475_546)
        assert viewer.fields["File size"].text() == "464.4 KiB"
    finally:
        QLocale.setDefault(QLocale.system())


def test_the_main_panes_have_accessible_names(qtbot: Any, tmp_path: Any) -> None:
    from PySide6.QtCore import QSettings

    from viewer.widgets.main_window import MainWindow

    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    names = {w.accessibleName() for w in (window.table, window.tree, window.list_pane.search)} | {
        window.list_pane.status.accessibleName()
    }
    assert names == {"Inspections", "Checklist", "Search inspections", "Status filter"}
