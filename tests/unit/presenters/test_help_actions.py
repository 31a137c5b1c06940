"""Help > Open Log Folder shows the log's folder in the desktop's file manager."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from db.config import AppPaths
from viewer.presenters.actions import FileActions
from viewer.widgets.main_window import MainWindow


class OpenedUrls(QObject):
    """Qt's own hook for a URL scheme (QDesktopServices.setUrlHandler): what would be opened."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_open_log_folder_opens_the_folder_of_the_log_file(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    paths = AppPaths(
        data_dir=tmp_path / "data", media_url=tmp_path.as_uri(), log_home=tmp_path / "state/log"
    )
    actions = FileActions(window, paths, source=lambda: None, switch_to=lambda url: None)  # type: ignore[arg-type,return-value]
    opened = OpenedUrls()
    QDesktopServices.setUrlHandler("file", opened, "open")
    try:
        titles = [a.text() for a in window.help_menu.actions()]
        assert "Open &Log Folder" in titles
        actions.open_log_folder_action.trigger()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [u.toLocalFile() for u in opened.urls] == [str(tmp_path / "state/log")]
    assert (tmp_path / "state/log").is_dir()
    assert paths.log_file.parent == tmp_path / "state/log"
