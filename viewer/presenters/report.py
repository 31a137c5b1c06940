"""File > Export Report...: the selected inspections as one PDF, drawn in a worker thread.

The content comes from the window's own MediaBatchLoader on the qasync loop (a just-viewed
inspection is a cache hit); the pages are drawn by the report job in the dialog's worker
thread, with a progress bar and Cancel. The GUI thread never waits for either.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from db.loader import MediaBatchLoader
from viewer.presenters.session import DataSource
from viewer.presenters.tasks import error_text
from viewer.report import (
    PDF_SUFFIX,
    PhotoChoice,
    ReportSummary,
    ReportTarget,
    load_report_inspections,
    report_job,
)
from viewer.report.review import review_from
from viewer.widgets.main_window import MainWindow
from viewer.widgets.offline_export_dialog import OfflineExportDialog
from viewer.words import count

log = logging.getLogger(__name__)

# The save dialog's file types double as the choice of photos.
PHOTO_FILTERS = {
    f"PDF report, photos of failed and needs-rework items (*{PDF_SUFFIX})": PhotoChoice.FAILED,
    f"PDF report, all photos (*{PDF_SUFFIX})": PhotoChoice.ALL,
    f"PDF report, no photos (*{PDF_SUFFIX})": PhotoChoice.NONE,
}


def ask_report_path(
    parent: MainWindow, suggested_name: str, folder: Path
) -> tuple[Path, PhotoChoice] | None:
    """A save dialog for the PDF; the suffix is added when the user left it out."""
    name, chosen = QFileDialog.getSaveFileName(
        parent,
        "Export Report",
        str(folder / f"{suggested_name}{PDF_SUFFIX}"),
        ";;".join(PHOTO_FILTERS),
    )
    if not name:
        return None
    path = Path(name)
    if path.suffix.lower() != PDF_SUFFIX:
        path = path.with_name(path.name + PDF_SUFFIX)
    return path, PHOTO_FILTERS.get(chosen, PhotoChoice.FAILED)


def describe_report(result: object) -> str:
    """The sentence the dialog ends with."""
    assert isinstance(result, list) and all(isinstance(s, ReportSummary) for s in result)
    parts = []
    for summary in result:
        missing = f", {summary.unavailable} unavailable" if summary.unavailable else ""
        parts.append(
            f"Saved {summary.path.name}: {count(summary.pages, 'page')}, "
            f"{count(summary.photos, 'photo')}"
            f"{missing}, {summary.bytes / 1e6:.1f} MB in {summary.seconds:.1f} s."
        )
    return " ".join(parts)


class ReportExport:
    """Asks where, loads the content on the loop, then runs the drawing in the dialog."""

    def __init__(
        self,
        window: MainWindow,
        source: Callable[[], DataSource],
        loader: Callable[[], MediaBatchLoader | None],
    ) -> None:
        self.window = window
        self._source = source
        self._loader = loader
        self.dialog: OfflineExportDialog | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        chosen = self.window.selected_inspections()
        loader = self._loader()
        if not chosen or loader is None:
            self.window.show_status("Select the inspections to report on first", 5000)
            return
        if self.is_running():
            self.window.show_status("A report is being written already", 5000)
            return
        name = chosen[0].reference_code if len(chosen) == 1 else f"{len(chosen)}-inspections"
        asked = ask_report_path(self.window, name, Path.home())
        if asked is None:
            return
        path, choice = asked
        refs = [rec.reference_code for rec in chosen]
        self._task = asyncio.ensure_future(self._run(loader, refs, path, choice))

    def is_running(self) -> bool:
        if self._task is not None and not self._task.done():
            return True
        return self.dialog is not None and self.dialog.is_running()

    async def _run(
        self, loader: MediaBatchLoader, refs: list[str], path: Path, choice: PhotoChoice
    ) -> None:
        shown = ", ".join(refs) if len(refs) <= 3 else f"{len(refs)} inspections"
        self.window.show_status(f"Preparing the report of {shown}...")
        try:
            review = review_from(self._source().reviews, loader.metrics)
            inspections = await load_report_inspections(loader, refs, review)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a KnownError in its words, a bug logged in full
            self.window.show_status(f"No report: {error_text(exc)}", 10_000)
            return
        job = report_job([ReportTarget(path, tuple(inspections))], self._source().store, choice)
        dialog = OfflineExportDialog(
            job, f"Writing the report of {shown} to {path.name}", describe_report, self.window
        )
        dialog.setWindowTitle("Export Report")
        self.dialog = dialog
        self.window.show_status("")
        dialog.start()
        dialog.open()

    async def shutdown(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        dialog = self.dialog
        if dialog is not None and dialog.is_running():
            dialog.cancel()
            await asyncio.to_thread(dialog.wait)
