"""The controller: feeds the window from the database and the thumbnail service.

Everything slow happens off the GUI thread: database work on the qasync loop (awaiting psycopg
sockets), server start and migrations in a worker thread, decoding in the thumbnail workers.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit
from sqlalchemy.ext.asyncio import AsyncEngine

from db.config import AppPaths
from db.diagnostics import ServerReport, engine_server_report
from db.engine import Database, DatabaseTarget, make_async_engine
from db.errors import KnownError
from db.loader import MediaBatchLoader, MediaLoadError, Selection, SelectionLoader
from db.metrics import QueryMetrics
from db.queries import InspectionQuery, list_inspections
from db.records import InspectionSummary, MediaItem
from viewer import bootstrap
from viewer.thumbnails.placeholder import placeholder
from viewer.thumbnails.service import GRID_SIZE, PREVIEW_SIZE, ThumbnailRequest, ThumbnailService
from viewer.widgets.main_window import PREFETCH_ROWS, MainWindow
from viewer.widgets.media_viewer import MediaViewer
from viewer.widgets.performance import PerformancePanel

log = logging.getLogger(__name__)


class AppController(QObject):
    """Owns the database handles, the loader and the thumbnail requests of one window."""

    # Emitted when the first shown inspection has its visible thumbnails (or failures) in.
    first_view_ready = Signal()

    def __init__(
        self,
        window: MainWindow,
        paths: AppPaths,
        database: Database,
        thumbnails: ThumbnailService,
        *,
        database_factory: Callable[[str], Database] | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.paths = paths
        self.database = database
        self.thumbnails = thumbnails
        self._database_factory = database_factory
        self.metrics = QueryMetrics()
        self.engine: AsyncEngine | None = None
        self.target: DatabaseTarget | None = None
        self.loader: MediaBatchLoader | None = None
        self.selection_loader: SelectionLoader | None = None
        self.selection: Selection | None = None
        self.query = InspectionQuery()
        self.viewer: MediaViewer | None = None
        self._next_key: tuple[Any, ...] | None = None
        self._list_generation = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._start_task: asyncio.Task[None] | None = None
        self._first_view_pending = True
        self._failure_images: dict[str, QImage] = {}
        self._restore_reference: str | None = None
        self._export_dialog: Any = None
        # Reference codes of the inspections selected so far: the panel names loads by them.
        self._references: dict[int, str] = {}
        self.performance = PerformancePanel(
            self.metrics,
            thumbnails,
            self.server_report,
            reference_of=self._references.get,
            parent=window,
        )
        window.add_performance_panel(self.performance)

        window.retry_requested.connect(self.start)
        window.query_changed.connect(self.set_query)
        window.inspections.more_requested.connect(self.load_more)
        window.inspection_selected.connect(self._on_inspection_selected)
        window.scope_selected.connect(self._on_scope_selected)
        window.refresh_requested.connect(self.refresh)
        window.media_retry_requested.connect(self.refresh)
        window.open_database_requested.connect(self._ask_database_url)
        window.open_bundle_requested.connect(self._open_bundle)
        window.take_offline_requested.connect(self._take_offline)
        window.media_pane.visible_rows_changed.connect(self._on_visible_rows)
        window.media_pane.open_requested.connect(self.open_viewer)
        thumbnails.thumbnail_ready.connect(self._on_thumbnail)
        thumbnails.thumbnail_failed.connect(self._on_thumbnail_failed)
        thumbnails.work_timed.connect(
            lambda source, seconds: self.metrics.record_duration(f"thumbnail_{source}", seconds)
        )
        # Memory-cache hits are answered at once, without a signal: the grid asking is the cue.
        window.media_pane.visible_rows_changed.connect(self.performance.notify_changed)

    # --- start-up -------------------------------------------------------------------------

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
            self.loader = MediaBatchLoader(self.engine, self.metrics)
            self.selection_loader = SelectionLoader(
                self.loader, self._on_selection, self._on_selection_failed
            )
            self.window.show_progress("Loading inspections...", 0, 0)
            if self.window.settings is not None:
                remembered = self.window.settings.value("selection/inspection")
                self._restore_reference = remembered if isinstance(remembered, str) else None
            await self._load_first_page()
        except KnownError as exc:
            self._startup_failed(str(exc))
        except Exception as exc:  # a bug: log the traceback, tell the user, keep the window
            log.exception("starting failed")
            self._startup_failed(f"Unexpected error: {exc!r}. Details are in the log.")

    def _startup_failed(self, message: str) -> None:
        self.window.show_startup_error(message)
        self._finish_first_view()

    # --- the inspection list ----------------------------------------------------------------

    def set_query(self, query: InspectionQuery) -> None:
        if query != self.query:
            self.query = query
            self._spawn(self._load_first_page())

    async def _load_first_page(self) -> None:
        if self.engine is None:
            return
        self._list_generation += 1
        generation = self._list_generation
        try:
            with self.metrics.action("load_page", page=1):
                async with self.engine.connect() as conn:
                    page = await list_inspections(conn, self.query)
        except Exception as exc:
            self._list_failed(exc)
            return
        if generation != self._list_generation:
            return  # the user typed on: a newer query owns the list
        self._next_key = page.next_key
        self.window.show_inspections(page.rows, has_more=page.next_key is not None)
        self.window.show_status(
            f"{len(page.rows):,}{'+' if page.next_key else ''} inspections", 5000
        )
        row = 0
        if self._restore_reference is not None:
            found = next(
                (i for i, r in enumerate(page.rows) if r.reference_code == self._restore_reference),
                -1,
            )
            row = max(found, 0)
            self._restore_reference = None
        if page.rows:
            self.window.select_inspection_row(row)
        else:
            self.window.show_inspection(None)
            self._finish_first_view()

    def load_more(self) -> None:
        if self._next_key is not None:
            self._spawn(self._load_more(self._list_generation, self._next_key))

    async def _load_more(self, generation: int, after: tuple[Any, ...]) -> None:
        assert self.engine is not None
        try:
            with self.metrics.action("load_page", after=after[-1]):
                async with self.engine.connect() as conn:
                    page = await list_inspections(conn, self.query, after)
        except Exception as exc:
            self.window.inspections.fetch_failed()
            self._list_failed(exc)
            return
        if generation != self._list_generation:
            return
        self._next_key = page.next_key
        self.window.append_inspections(page.rows, has_more=page.next_key is not None)

    def _list_failed(self, exc: Exception) -> None:
        reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()
        message = f"The inspection list could not be loaded: {reason[0] if reason else exc!r}"
        log.warning("%s", message)
        if self.window.inspections.rowCount() == 0:
            self._startup_failed(message)
        else:
            self.window.show_status(message)

    # --- the selected inspection --------------------------------------------------------------

    def _on_inspection_selected(self, rec: InspectionSummary | None) -> None:
        self.selection = None
        if rec is not None:
            self._references[rec.id] = rec.reference_code
        self.thumbnails.begin_generation()  # queued thumbnails of the old one are dropped
        if self.selection_loader is not None:
            self.selection_loader.select(rec.id if rec is not None else None)

    def refresh(self) -> None:
        """F5 and Retry: reload the selected inspection from the database, bypassing caches."""
        rec = self.window.selected_inspection()
        if rec is None or self.selection_loader is None:
            if self.engine is None:
                self.start()
            return
        self.window.show_inspection(rec)
        self.thumbnails.begin_generation()
        self.selection_loader.select(rec.id, refresh=True)

    def _on_selection(self, selection: Selection) -> None:
        self.selection = selection
        result = selection.media
        self.window.show_checklist(selection.checklist)  # selects "All media": grid fills
        if result.strategy == "cache":
            self.window.set_load_label("Loaded from cache")
        else:
            plural = "s" if result.statements != 1 else ""
            self.window.set_load_label(
                f"Last load: {result.seconds * 1000:.0f} ms, {result.statements} statement"
                f"{plural} ({result.strategy})"
            )

    def _on_selection_failed(self, error: MediaLoadError) -> None:
        self.window.show_load_error(str(error))
        self.window.show_status(str(error))
        self._finish_first_view()

    def _on_scope_selected(self, scope: tuple[str, Any]) -> None:
        if self.selection is None:
            return
        kind, value = scope
        media = self.selection.media.media
        if kind == "item":
            items = media.for_item(value)
            title = next((f"{e.title}" for e in self.selection.checklist if e.id == value), "")
            empty = "No media for this item"
        elif kind == "section":
            ids = {e.id for e in self.selection.checklist if e.section == value}
            items = tuple(m for m in media.all_media() if m.checklist_item_id in ids)
            title, empty = value, "No media in this section"
        else:
            items = media.all_media()
            title, empty = "All media", "No media for this inspection"
        self.thumbnails.begin_generation()
        self.window.show_media(items, f"{title} · {len(items):,} photos", empty)
        result = self.selection.media
        self.window.set_media_status(
            "from cache"
            if result.strategy == "cache"
            else f"{result.media.count:,} loaded in {result.seconds * 1000:.0f} ms"
        )
        if not items:
            self._finish_first_view()

    # --- thumbnails ---------------------------------------------------------------------------

    def _on_visible_rows(self, first: int, last: int) -> None:
        model = self.window.media
        count = model.rowCount()
        if count == 0:
            return
        per_row = max(1, self.window.grid.viewport().width() // self.window.grid.gridSize().width())
        ahead_first = max(0, first - PREFETCH_ROWS * per_row // 4)
        ahead_last = min(count - 1, last + PREFETCH_ROWS * per_row // 2)
        model.keep_rows(ahead_first, ahead_last)
        visible_keys = []
        keep_keys = []
        for row in range(ahead_first, ahead_last + 1):
            item = model.item(row)
            assert item is not None
            key = (item.id, GRID_SIZE)
            keep_keys.append(key)
            visible = first <= row <= last
            if visible:
                visible_keys.append(key)
            if model.has_image(row):
                continue
            image = self.thumbnails.request(self._request(item, GRID_SIZE), visible=visible)
            if image is not None:
                model.set_image(item.id, image)
        self.thumbnails.set_visible(visible_keys)
        self.thumbnails.cancel_stale(keep_keys, size_px=GRID_SIZE)  # not the viewer's preview
        self._check_first_view()

    def _request(self, item: MediaItem, size: int) -> ThumbnailRequest:
        return ThumbnailRequest(item.id, self.paths.media_root / item.storage_key, size)

    def _on_thumbnail(self, media_id: int, size_px: int, image: QImage) -> None:
        if size_px == GRID_SIZE:
            self.window.media.set_image(media_id, image)
            self._check_first_view()
        elif self.viewer is not None:
            self.viewer.show_image(media_id, image)

    def _on_thumbnail_failed(self, media_id: int, size_px: int, kind: str, reason: str) -> None:
        if size_px == GRID_SIZE:
            tile = self._failure_images.get(kind)
            if tile is None:
                tile = self._failure_images[kind] = placeholder(kind, GRID_SIZE)
            self.window.media.set_failure(media_id, kind, reason, tile)
            self._check_first_view()
        elif self.viewer is not None:
            self.viewer.show_failure(media_id, reason)

    def _check_first_view(self) -> None:
        if not self._first_view_pending:
            return
        rows = self.window.media_pane.visible_rows()
        if rows is None:
            return
        if all(self.window.media.has_image(row) for row in range(rows[0], rows[1] + 1)):
            self._finish_first_view()

    def _finish_first_view(self) -> None:
        if self._first_view_pending:
            self._first_view_pending = False
            self.first_view_ready.emit()

    # --- the viewer ---------------------------------------------------------------------------

    def open_viewer(self, row: int) -> None:
        media = self.window.media.media()
        if not 0 <= row < len(media) or self.selection is None:
            return
        titles = {e.id: f"{e.section} · {e.title}" for e in self.selection.checklist}
        viewer = MediaViewer(media, row, self.paths.media_root, titles, self.window)
        viewer.image_needed.connect(self._on_viewer_needs)
        viewer.finished.connect(self._viewer_closed)
        self.viewer = viewer
        viewer.show()
        viewer.show_current()  # the first request, now that the signal is connected

    def _on_viewer_needs(self, item: MediaItem) -> None:
        image = self.thumbnails.request(self._request(item, PREVIEW_SIZE), visible=True)
        if image is not None and self.viewer is not None:
            self.viewer.show_image(item.id, image)

    def _viewer_closed(self) -> None:
        if self.viewer is not None:
            self.viewer.deleteLater()
        self.viewer = None

    # --- offline bundles -----------------------------------------------------------------------

    def _take_offline(self) -> None:
        from viewer.widgets.offline_export_dialog import (
            OfflineExportDialog,
            ask_bundle_path,
            export_job,
        )

        chosen = self.window.selected_inspections()
        if not chosen or self.target is None:
            self.window.show_status("Select the inspections to take offline first", 5000)
            return
        name = chosen[0].reference_code if len(chosen) == 1 else f"{len(chosen)}-inspections"
        path = ask_bundle_path(self.window, name, Path.home())
        if path is None:
            return
        refs = [rec.reference_code for rec in chosen]
        dialog = OfflineExportDialog(
            export_job(self.target.url, self.paths.media_root, refs, path),
            f"Taking {', '.join(refs) if len(refs) <= 3 else f'{len(refs)} inspections'} offline",
            self.window,
        )
        self._export_dialog = dialog
        dialog.start()
        dialog.open()

    def _open_bundle(self) -> None:
        from PySide6.QtCore import QProcess
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(
            self.window,
            "Open Offline Bundle",
            str(Path.home()),
            "Inspection bundles (*.ivbundle);;All files (*)",
        )
        if path:
            # A bundle opens in a window of its own, so the one on the database stays as it is.
            QProcess.startDetached(
                sys.executable,
                ["-m", "viewer", "--data-dir", str(self.paths.data_dir), "open", path],
            )

    # --- switching databases -----------------------------------------------------------------

    def _ask_database_url(self) -> None:
        url, ok = QInputDialog.getText(
            self.window,
            "Open Database",
            "PostgreSQL URL (postgresql://user:password@host:5432/dbname),\n"
            "or leave empty for the embedded database:",
            QLineEdit.EchoMode.Normal,
            "",
        )
        if ok:
            self._spawn(self.switch_database(url.strip()))

    async def switch_database(self, url: str) -> None:
        if self._database_factory is None:
            return
        try:
            database = self._database_factory(url)
        except KnownError as exc:
            self.window.show_status(str(exc))
            return
        await self._close_database()
        self.database = database
        self.window.show_inspection(None)
        self.start()

    async def _close_database(self) -> None:
        if self.selection_loader is not None:
            self.selection_loader.cancel()
            await self.selection_loader.wait()
        self.selection_loader = None
        if self.loader is not None:
            await self.loader.aclose()
        self.loader = None
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None
        await asyncio.to_thread(self.database.close)

    # --- the performance panel's server side -----------------------------------------------

    async def server_report(self) -> ServerReport:
        """The panel's Refresh: server-side figures for the selected inspection."""
        if self.engine is None:
            return ServerReport.unavailable("No database is open yet.")
        rec = self.window.selected_inspection()
        return await engine_server_report(
            self.engine,
            self.metrics,
            inspection_id=rec.id if rec is not None else None,
            inspection=rec.reference_code if rec is not None else "",
        )

    # --- plumbing -----------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def shutdown(self) -> None:
        if self._export_dialog is not None and self._export_dialog.is_running():
            self._export_dialog.cancel()
            await asyncio.to_thread(self._export_dialog.wait)
        if self._start_task is not None and not self._start_task.done():
            self._start_task.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            if self.viewer is not None and shiboken6.isValid(self.viewer):
                self.viewer.close()
            if shiboken6.isValid(self.performance):
                self.performance.shutdown()
            await self._close_database()
        finally:
            # Whatever failed above, no worker thread may outlive the app.
            self.thumbnails.shutdown()


def save_screenshot(window: MainWindow, path: Path) -> bool:
    ok = window.grab().save(str(path), "PNG")
    if ok:
        print(f"screenshot saved to {path} ({window.inspections.rowCount()} inspections listed)")
    else:
        print(f"inspection-viewer: could not write {path}", file=sys.stderr)
    return ok


def quit_soon(delay_ms: int = 0) -> None:
    QTimer.singleShot(delay_ms, QApplication.quit)
