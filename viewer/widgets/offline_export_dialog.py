"""The "Take offline..." dialog: one bundle export in a worker thread, with progress and Cancel."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import URL

from db.bundle import BUNDLE_SUFFIX
from db.engine import make_engine
from db.errors import KnownError
from db.offline import ExportCancelled, ExportSummary, Progress, Thumbnailer, export_bundle

log = logging.getLogger(__name__)

# The export itself, given the progress callback and the cancel flag (called in the worker).
ExportJob = Callable[[Progress, threading.Event], ExportSummary]


def export_job(
    database_url: URL,
    media_root: Path,
    references: Sequence[str],
    out: Path,
    thumbnailer: Thumbnailer | None = None,
) -> ExportJob:
    """The usual job: its own short-lived engine, so nothing is shared with the GUI's loop."""
    if thumbnailer is None:
        from viewer.offline_thumbnails import png_thumbnail

        thumbnailer = png_thumbnail

    def run(progress: Progress, cancel: threading.Event) -> ExportSummary:
        engine = make_engine(database_url)
        try:
            return export_bundle(
                engine,
                media_root,
                references,
                out=out,
                progress=progress,
                cancel=cancel,
                thumbnailer=thumbnailer,
            )
        finally:
            engine.dispose()

    return run


def ask_bundle_path(parent: QWidget | None, suggested_name: str, folder: Path) -> Path | None:
    """A save dialog for the bundle file; the suffix is added when the user left it out."""
    name, _ = QFileDialog.getSaveFileName(
        parent,
        "Take Offline",
        str(folder / f"{suggested_name}{BUNDLE_SUFFIX}"),
        f"Offline bundles (*{BUNDLE_SUFFIX})",
    )
    if not name:
        return None
    path = Path(name)
    return (
        path if path.suffix.lower() == BUNDLE_SUFFIX else path.with_name(path.name + BUNDLE_SUFFIX)
    )


class OfflineExportDialog(QDialog):
    """Runs `job` once in a worker thread. While it runs, Cancel (or Esc, or closing the window)
    asks it to stop; the dialog closes only once the worker has ended."""

    export_finished = Signal(object)  # ExportSummary
    export_cancelled = Signal()
    export_failed = Signal(str)  # a message for the user
    # From the worker thread; queued, so the slots run on the GUI thread.
    _progressed = Signal(str, int, int)
    _ended = Signal(object)  # ExportSummary | Exception

    def __init__(self, job: ExportJob, description: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Take Offline")
        self.setMinimumWidth(460)
        self._job = job
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self.summary: ExportSummary | None = None

        self.description = QLabel(description)
        self.description.setWordWrap(True)
        self.phase = QLabel("Starting...")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.description, self.phase, self.progress, self.outcome, self.buttons):
            layout.addWidget(widget)

        self._progressed.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self._ended.connect(self._on_ended, Qt.ConnectionType.QueuedConnection)

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("an export dialog runs its job once")
        self._thread = threading.Thread(target=self._run, name="offline-export")
        self._thread.start()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def cancel(self) -> None:
        if self.is_running():
            self._cancel.set()
            self.phase.setText("Cancelling...")
            self.buttons.setEnabled(False)

    def wait(self, timeout_s: float | None = None) -> bool:
        """For shutdown and tests: join the worker; True if it has ended."""
        if self._thread is not None:
            self._thread.join(timeout_s)
        return not self.is_running()

    def reject(self) -> None:
        if self.is_running():
            self.cancel()
        else:
            super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.is_running():
            self.cancel()
            event.ignore()
        else:
            super().closeEvent(event)

    # --- worker side ---------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            result: ExportSummary | Exception = self._job(self._progressed.emit, self._cancel)
        except Exception as exc:  # delivered to the GUI thread, which tells the user
            result = exc
        self._ended.emit(result)

    # --- GUI side ------------------------------------------------------------------------------

    def _on_progress(self, phase: str, done: int, total: int) -> None:
        if self._cancel.is_set():
            return
        self.phase.setText(f"{phase} ({done:,} of {total:,})" if total > 1 else phase)
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(done if total else 0)

    def _on_ended(self, result: object) -> None:
        if self._thread is not None:
            self._thread.join()  # it has emitted its last signal: this returns at once
        self.progress.setVisible(False)
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)
        self.buttons.setEnabled(True)
        if isinstance(result, ExportSummary):
            self.summary = result
            self._show_result(_summary_text(result))
            self.export_finished.emit(result)
        elif isinstance(result, ExportCancelled):
            self._show_result(str(result))
            self.export_cancelled.emit()
        elif isinstance(result, KnownError):
            self._show_result(f"The export failed: {result}", error=True)
            self.export_failed.emit(str(result))
        else:
            log.error("offline export failed", exc_info=result)  # type: ignore[arg-type]
            message = f"Unexpected error: {result!r}. Details are in the log."
            self._show_result(message, error=True)
            self.export_failed.emit(message)

    def _show_result(self, text: str, error: bool = False) -> None:
        self.phase.setText("Done" if not error else "Failed")
        self.outcome.setText(text)
        self.outcome.setStyleSheet("color: #b3261e;" if error else "")
        self.outcome.setVisible(True)


def _summary_text(summary: ExportSummary) -> str:
    text = (
        f"Saved {summary.path.name}: {summary.inspections} inspection"
        f"{'s' if summary.inspections != 1 else ''}, {summary.media:,} photos, "
        f"{summary.bundle_bytes / 1e6:.1f} MB in {summary.seconds:.1f} s."
    )
    if summary.unavailable:
        text += (
            f" {len(summary.unavailable)} photo(s) could not be read at the source and are "
            "marked unavailable in the bundle."
        )
    return text
