"""Application bootstrap: QApplication, the qasync event loop, the controller and clean shutdown."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

# PySide6 before qasync: qasync picks the Qt binding that is already imported (STYLE.md).
import PySide6  # noqa: F401
import qasync
from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication
from sqlalchemy.ext.asyncio import AsyncEngine

from db.config import AppPaths
from db.engine import Database, DatabaseTarget, make_async_engine
from db.errors import KnownError
from db.loader import LoadResult, MediaBatchLoader, MediaLoadError, SelectionLoader
from db.metrics import QueryMetrics
from db.queries import list_inspections
from db.records import InspectionSummary
from viewer import bootstrap
from viewer.widgets.main_window import MainWindow

log = logging.getLogger(__name__)

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
SCREENSHOT_SIZE = (1280, 800)
# A screenshot run that never gets its first inspection on screen must still end.
SCREENSHOT_TIMEOUT_MS = 180_000


class AppController:
    """Owns the database handles and feeds the window; all database work is off the GUI thread."""

    def __init__(
        self,
        window: MainWindow,
        paths: AppPaths,
        database: Database,
        screenshot: Path | None = None,
    ) -> None:
        self.window = window
        self.paths = paths
        self.database = database
        self.screenshot = screenshot
        self.exit_code = 0
        self.engine: AsyncEngine | None = None
        self.target: DatabaseTarget | None = None
        self.metrics = QueryMetrics()
        self.selection: SelectionLoader | None = None
        self._start_task: asyncio.Task[None] | None = None
        self._screenshot_scheduled = False
        window.retry_requested.connect(self.start)
        window.inspection_selected.connect(self._on_inspection_selected)
        window.media_retry_requested.connect(self.refresh)

    def start(self) -> None:
        if self._start_task is None or self._start_task.done():
            self._start_task = asyncio.ensure_future(self._start())

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()

        def progress(text: str, done: int, total: int) -> None:
            # Called from the worker thread: hop to the GUI thread.
            loop.call_soon_threadsafe(self.window.show_progress, text, done, total)

        try:
            self.target = await asyncio.to_thread(
                bootstrap.prepare, self.database, self.paths, progress
            )
            self.window.set_database_label(self.target.display)
            self.engine = make_async_engine(self.target.url)
            self.metrics.instrument(self.engine.sync_engine)
            self.selection = SelectionLoader(
                MediaBatchLoader(self.engine, self.metrics), self._on_media, self._on_media_error
            )
            self.window.show_progress("Loading inspections...", 0, 0)
            async with self.engine.connect() as conn:
                page = await list_inspections(conn)
            self.window.show_inspections(page.rows)
            self.window.select_inspection_row(0)
        except KnownError as exc:
            self._fail(str(exc))
            return
        except Exception as exc:  # a bug: log the traceback, tell the user, keep the window
            log.exception("starting failed")
            self._fail(f"Unexpected error: {exc!r}. Details are in the log.")
            return
        if self.screenshot is not None and self.window.selected_inspection() is None:
            self._take_screenshot_soon()  # nothing to wait for

    # --- media of the selected inspection ------------------------------------------------

    def _on_inspection_selected(self, rec: InspectionSummary | None) -> None:
        if self.selection is None:
            return
        if rec is not None:
            self.window.details.show_media_loading()
        self.selection.select(rec.id if rec is not None else None)

    def refresh(self) -> None:
        """F5 and Retry: load the selected inspection again, bypassing caches."""
        rec = self.window.selected_inspection()
        if self.selection is not None and rec is not None:
            self.window.details.show_media_loading()
            self.selection.select(rec.id, refresh=True)

    def _on_media(self, result: LoadResult) -> None:
        self.window.details.show_media_loaded(
            result.media.count, result.statements, result.strategy, result.seconds * 1000
        )
        if result.strategy != "cache":
            self.window.show_status(
                f"Loaded {result.media.count:,} photos in {result.seconds * 1000:.0f} ms, "
                f"{result.statements} statement{'s' if result.statements != 1 else ''} "
                f"({result.strategy})"
            )
        self.media_loaded(result)

    def _on_media_error(self, error: MediaLoadError) -> None:
        self.window.details.show_media_error(str(error))
        self.window.show_status(str(error))
        if self.screenshot is not None:
            self._take_screenshot_soon()

    def media_loaded(self, result: LoadResult) -> None:
        """Hook for the first-shown inspection: the screenshot waits for it."""
        if self.screenshot is not None:
            self._take_screenshot_soon()

    def _take_screenshot_soon(self) -> None:
        if not self._screenshot_scheduled:
            self._screenshot_scheduled = True
            # Let layouts settle and paint before grabbing.
            QTimer.singleShot(200, self._save_screenshot)

    def _fail(self, message: str) -> None:
        self.window.show_startup_error(message)
        if self.screenshot is not None:
            print(f"inspection-viewer: {message}", file=sys.stderr)
            self.exit_code = 1
            QApplication.quit()

    def _save_screenshot(self) -> None:
        assert self.screenshot is not None
        if self.window.grab().save(str(self.screenshot), "PNG"):
            shown = self.window.inspections.rowCount()
            print(f"screenshot saved to {self.screenshot} ({shown} inspections listed)")
        else:
            print(f"inspection-viewer: could not write {self.screenshot}", file=sys.stderr)
            self.exit_code = 1
        QApplication.quit()

    def screenshot_timed_out(self) -> None:
        print("inspection-viewer: timed out waiting for the first inspection", file=sys.stderr)
        self.exit_code = 1
        QApplication.quit()

    async def shutdown(self) -> None:
        if self._start_task is not None and not self._start_task.done():
            self._start_task.cancel()
        if self.selection is not None:
            self.selection.cancel()
            await self.selection.wait()
        if self.engine is not None:
            await self.engine.dispose()
        await asyncio.to_thread(self.database.close)


def create_application() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName("Inspection Viewer")
    app.setOrganizationName("Inspection Viewer")
    app.setDesktopFileName("inspection-viewer")
    icon = RESOURCES / "inspection-viewer.png"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def run_gui(paths: AppPaths, database: Database, screenshot: Path | None = None) -> int:
    app = create_application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = MainWindow()
    window.resize(*SCREENSHOT_SIZE)
    controller = AppController(window, paths, database, screenshot)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    if screenshot is not None:
        QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, controller.screenshot_timed_out)
    window.show()
    controller.start()
    with loop:
        loop.run_until_complete(closed.wait())
        loop.run_until_complete(controller.shutdown())
    return controller.exit_code
