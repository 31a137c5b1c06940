"""File menu actions (take inspections offline, export a report, open a bundle, switch database)
and Help > Open Log Folder."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QProcess, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit

from db.config import AppPaths
from db.errors import KnownError
from db.loader import MediaBatchLoader
from db.offline import BUNDLE_SUFFIX, ExportSummary
from viewer.presenters.report import ReportExport
from viewer.presenters.session import DataSource
from viewer.widgets.main_window import MainWindow
from viewer.widgets.offline_export_dialog import OfflineExportDialog, ask_bundle_path
from viewer.words import count


def describe_export(summary: object) -> str:
    """The sentence the export dialog ends with."""
    assert isinstance(summary, ExportSummary)
    text = (
        f"Saved {summary.path.name}: {count(summary.inspections, 'inspection')}, "
        f"{count(summary.media, 'photo')}, "
        f"{summary.bundle_bytes / 1e6:.1f} MB in {summary.seconds:.1f} s."
    )
    if summary.unavailable:
        text += (
            f" {len(summary.unavailable)} photo(s) could not be read at the source and are "
            "marked unavailable in the bundle."
        )
    return text


class FileActions:
    """What the File menu does; `switch_to` replaces the window's data source."""

    def __init__(
        self,
        window: MainWindow,
        paths: AppPaths,
        source: Callable[[], DataSource],
        switch_to: Callable[[str], None],
        loader: Callable[[], MediaBatchLoader | None] = lambda: None,
    ) -> None:
        self.window = window
        self.paths = paths
        self._source = source
        self._switch_to = switch_to
        self.export_dialog: OfflineExportDialog | None = None
        self.report = ReportExport(window, source, loader)
        window.open_database_requested.connect(self.ask_database_url)
        window.open_bundle_requested.connect(self.open_bundle)
        window.take_offline_requested.connect(self.take_offline)
        window.export_report_requested.connect(self.report.start)
        # Help > Open Log Folder: the widget knows no paths, so the action is added here.
        self.open_log_folder_action = window.help_menu.addAction(
            window.tr("Open &Log Folder"), self.open_log_folder
        )

    def enable_for(self, source: DataSource) -> None:
        # An offline window stays on its bundle, and a bundle is offline already.
        self.window.open_database_action.setEnabled(source.live)
        self.window.take_offline_action.setEnabled(source.live)

    def take_offline(self) -> None:
        from viewer.thumbnails.export import png_thumbnail

        chosen = self.window.selected_inspections()
        if not chosen:
            self.window.show_status("Select the inspections to take offline first", 5000)
            return
        name = chosen[0].reference_code if len(chosen) == 1 else f"{len(chosen)}-inspections"
        path = ask_bundle_path(self.window, name, Path.home(), BUNDLE_SUFFIX)
        if path is None:
            return
        refs = [rec.reference_code for rec in chosen]
        job = self._source().export_job(refs, path, png_thumbnail)
        if job is None:
            self.window.show_status("These inspections cannot be taken offline from here", 5000)
            return
        shown = ", ".join(refs) if len(refs) <= 3 else f"{len(refs)} inspections"
        dialog = OfflineExportDialog(job, f"Taking {shown} offline", describe_export, self.window)
        self.export_dialog = dialog
        dialog.start()
        dialog.open()

    def open_bundle(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window,
            "Open Offline Bundle",
            str(Path.home()),
            f"Inspection bundles (*{BUNDLE_SUFFIX});;All files (*)",
        )
        if path:
            # A bundle opens in a window of its own, so the one on the database stays as it is;
            # with the same folders (--data-dir only if this one was given one).
            folder = ["--data-dir", str(self.paths.data_dir)] if self.paths.single_folder else []
            QProcess.startDetached(sys.executable, ["-m", "viewer", *folder, "open", path])

    def open_log_folder(self) -> None:
        """The folder of the log file, in the desktop's file manager."""
        folder = self.paths.log_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.window.show_status(self.window.tr("Cannot open the log folder: %s") % exc)
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def ask_database_url(self) -> None:
        url, ok = QInputDialog.getText(
            self.window,
            "Open Database",
            "PostgreSQL URL (postgresql://user:password@host:5432/dbname),\n"
            "or leave empty for the embedded database:",
            QLineEdit.EchoMode.Normal,
            "",
        )
        if ok:
            try:
                self._switch_to(url.strip())
            except KnownError as exc:
                self.window.show_status(str(exc))

    async def shutdown(self) -> None:
        await self.report.shutdown()
        dialog = self.export_dialog
        if dialog is not None and dialog.is_running():
            dialog.cancel()
            await asyncio.to_thread(dialog.wait)
