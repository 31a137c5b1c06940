"""The performance dock outside a running database session: window state, an offline window."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QSettings, Qt

from db.config import AppPaths
from db.metrics import QueryMetrics
from viewer.presenters.main import MainPresenter
from viewer.presenters.session import OfflineBundleSource
from viewer.thumbnails.cache import MIB, ThumbnailCache
from viewer.thumbnails.service import ThumbnailService
from viewer.widgets.main_window import MainWindow
from viewer.widgets.performance import PerformancePanel

WAIT_MS = 30_000


def test_dock_state_is_remembered_with_the_window(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)

    def window_with_panel() -> tuple[MainWindow, PerformancePanel]:
        window = MainWindow(settings)
        qtbot.addWidget(window)
        panel = PerformancePanel(QueryMetrics(), parent=window)
        window.add_performance_panel(panel)
        window.show()
        return window, panel

    first, panel = window_with_panel()
    assert panel.isHidden(), "hidden by default"
    first.performance_action.trigger()
    assert panel.isVisible()
    first.close()  # saves the window state
    second, again = window_with_panel()
    assert again.isVisible() and second.performance_action.isChecked()
    second.toggle_performance_panel()
    assert again.isHidden()


def test_an_offline_window_says_the_server_side_is_not_available(  # type: ignore[no-untyped-def]
    qtbot, qasync_loop, tmp_path: Path
) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    paths = AppPaths(data_dir=tmp_path / "data", media_url=(tmp_path / "media").as_uri())
    thumbnails = ThumbnailService(ThumbnailCache(MIB), workers=1)
    # Never started: the provider must not need the bundle, nor any server.
    controller = MainPresenter(
        window, paths, OfflineBundleSource(tmp_path / "review.ivbundle", paths), thumbnails
    )
    panel = controller.performance
    window.toggle_performance_panel()
    with qtbot.waitSignal(panel.server_refreshed, timeout=WAIT_MS):
        qtbot.mouseClick(panel.server_tab.server_button, Qt.MouseButton.LeftButton)
    assert panel.server_tab.server_status.text().startswith("Not available offline")
    assert panel.server_tab.explain_indexes.text().startswith("Not available offline")
    assert panel.server_tab.server_messages["top"].text().startswith("Not available offline")
    done = asyncio.ensure_future(controller.shutdown())
    qtbot.waitUntil(done.done, timeout=WAIT_MS)
