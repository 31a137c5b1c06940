"""The "Take offline..." dialog: one bundle export in a worker thread, with progress and Cancel."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
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

from db.errors import KnownError, user_message
from db.progress import ProgressCallback

log = logging.getLogger(__name__)

# The export itself, given the progress callback and the cancel flag (called in the worker);
# it returns a summary, and `describe` turns that into the sentence the dialog shows.
ExportJob = Callable[[ProgressCallback, threading.Event], object]


def ask_bundle_path(
    parent: QWidget | None, suggested_name: str, folder: Path, suffix: str
) -> Path | None:
    """A save dialog for the bundle file; the suffix is added when the user left it out."""
    name, _ = QFileDialog.getSaveFileName(
        parent,
        "Take Offline",
        str(folder / f"{suggested_name}{suffix}"),
        f"Offline bundles (*{suffix})",
    )
    if not name:
        return None
    path = Path(name)
    return path if path.suffix.lower() == suffix else path.with_name(path.name + suffix)


class OfflineExportDialog(QDialog):
    """Runs `job` once in a worker thread. While it runs, Cancel (or Esc, or closing the window)
    asks it to stop; the dialog closes only once the worker has ended."""

    export_finished = Signal(object)  # the job's summary
    export_cancelled = Signal()
    export_failed = Signal(str)  # a message for the user
    # From the worker thread; queued, so the slots run on the GUI thread.
    _progressed = Signal(str, int, int)
    _ended = Signal(object)  # the summary, or the exception

    def __init__(
        self,
        job: ExportJob,
        description: str,
        describe: Callable[[object], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Take Offline"))
        self.setMinimumWidth(460)
        self._job = job
        self._describe = describe
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self.summary: object = None

        self.description = QLabel(description)
        self.description.setWordWrap(True)
        self.phase = QLabel(self.tr("Starting..."))
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
            self.phase.setText(self.tr("Cancelling..."))
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
            result: object = self._job(self._progressed.emit, self._cancel)
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
        if not isinstance(result, BaseException):
            self.summary = result
            self._show_result(self._describe(result))
            self.export_finished.emit(result)
        elif isinstance(result, KnownError) and self._cancel.is_set():
            self._show_result(str(result))
            self.export_cancelled.emit()
        else:
            message = user_message(result, log, "the offline export")
            if isinstance(result, KnownError):
                message = f"The export failed: {message}"
            self._show_result(message, error=True)
            self.export_failed.emit(message)

    def _show_result(self, text: str, error: bool = False) -> None:
        self.phase.setText(self.tr("Done") if not error else "Failed")
        self.outcome.setText(text)
        self.outcome.setStyleSheet("color: #b3261e;" if error else "")
        self.outcome.setVisible(True)
