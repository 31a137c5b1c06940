"""The window's presenter: opens the DataSource and wires the job presenters to the window."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, Signal

from db.config import AppPaths
from db.diagnostics import ServerReport
from db.errors import user_message
from db.loader import MediaBatchLoader
from db.metrics import QueryMetrics
from db.selection import SelectionLoader
from viewer.presenters.actions import FileActions
from viewer.presenters.inspection_list import InspectionListPresenter
from viewer.presenters.review import ReviewPresenter
from viewer.presenters.selection import SelectionPresenter
from viewer.presenters.session import DataSource
from viewer.presenters.tasks import TaskSet
from viewer.presenters.thumbnail_feed import ThumbnailFeed
from viewer.thumbnails.service import ThumbnailService
from viewer.widgets.main_window import MainWindow
from viewer.widgets.performance import PerformancePanel

log = logging.getLogger(__name__)


class MainPresenter(QObject):
    """Owns one window's data source, loaders and presenters, and shuts them down in order."""

    # Emitted once: the first shown inspection has its visible thumbnails (or failures) in,
    # or there is nothing to show (an empty list, a failed load, the start-up error).
    first_view_ready = Signal()

    def __init__(
        self,
        window: MainWindow,
        paths: AppPaths,
        source: DataSource,
        thumbnails: ThumbnailService,
        *,
        source_for_url: Callable[[str], DataSource] | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.source = source
        self.thumbnails = thumbnails
        self._source_for_url = source_for_url
        self.metrics = QueryMetrics()
        self.tasks = TaskSet()
        self.loader: MediaBatchLoader | None = None
        self._start_task: asyncio.Task[None] | None = None

        self.feed = ThumbnailFeed(window, thumbnails)
        self.feed.first_view_ready.connect(self.first_view_ready)
        self.selection = SelectionPresenter(
            window, self.feed, on_nothing_to_show=self.feed.finish_first_view
        )
        self.inspections = InspectionListPresenter(
            window,
            self.metrics,
            self.tasks,
            on_empty=self.feed.finish_first_view,
            on_failed=self._startup_failed,
        )
        self.review = ReviewPresenter(
            window,
            self.metrics,
            self.tasks,
            lambda: self.selection.selection.media.media if self.selection.selection else None,
            self.selection.first_rows_shown,
        )
        self.actions = FileActions(
            window, paths, lambda: self.source, self.switch_database, loader=lambda: self.loader
        )
        self.performance = PerformancePanel(
            self.metrics,
            thumbnails,
            self.server_report,
            reference_of=self.selection.references.get,
            parent=window,
        )
        window.add_performance_panel(self.performance)
        window.retry_requested.connect(self.start)
        window.media_pane.open_requested.connect(
            lambda row: self.feed.open_viewer(row, self.selection.titles())
        )
        window.media_pane.open_requested.connect(
            lambda _row: self.review.attach_viewer(self.feed.viewer)
        )
        # Memory-cache hits are answered at once, without a signal: the grid asking is the cue.
        window.media_pane.visible_rows_changed.connect(self.performance.notify_changed)
        thumbnails.work_timed.connect(
            lambda timed: self.metrics.record_durations(
                (f"thumbnail_{source}", seconds) for source, seconds in timed
            )
        )

    # --- start-up -------------------------------------------------------------------------

    def start(self) -> None:
        if self._start_task is None or self._start_task.done():
            self._start_task = asyncio.ensure_future(self._start())

    async def _start(self) -> None:
        source = self.source
        self.actions.enable_for(source)
        if source.window_title is not None:
            self.window.setWindowTitle(source.window_title)
        try:
            if not source.is_open:
                await source.open(self.window.show_progress)
                self._attach(source)
            self.window.set_database_label(source.display)
            self.window.show_progress("Loading inspections...", 0, 0)
            if self.window.settings is not None:
                remembered = self.window.settings.value("selection/inspection")
                if isinstance(remembered, str):
                    self.inspections.restore_reference = remembered
            await self.inspections.load_first_page()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a KnownError is shown as it is, a bug logged in full
            self._startup_failed(user_message(exc, log, "opening the data source"))

    def _attach(self, source: DataSource) -> None:
        self.metrics.instrument(source.engine.sync_engine)
        self.loader = MediaBatchLoader(source.engine, self.metrics)
        self.selection.loader = SelectionLoader(
            self.loader, self.selection.deliver, self.selection.fail, self.selection.partial
        )
        self.inspections.engine = source.engine
        self.feed.store = source.store
        self.review.attach(source)

    def _startup_failed(self, message: str) -> None:
        self.window.show_startup_error(message)
        self.feed.finish_first_view()

    # --- switching databases -----------------------------------------------------------------

    def switch_database(self, url: str) -> None:
        """File > Open Database URL: raises KnownError for a URL that cannot be used."""
        if self._source_for_url is None:
            return
        source = self._source_for_url(url)
        self.tasks.spawn(self._switch(source))

    async def _switch(self, source: DataSource) -> None:
        await self._close_source()
        self.source = source
        self.window.show_inspection(None)
        self.start()

    async def _close_source(self) -> None:
        loader = self.selection.loader
        if loader is not None:
            loader.cancel()
            await loader.wait()
        self.selection.loader = None
        self.inspections.engine = None
        self.feed.store = None
        self.review.attach(None)
        if self.loader is not None:
            await self.loader.aclose()
        self.loader = None
        await self.source.close()

    # --- the performance panel's server side -----------------------------------------------

    async def server_report(self) -> ServerReport:
        """The panel's Refresh: server-side figures for the selected inspection."""
        rec = self.window.selected_inspection()
        return await self.source.server_report(
            self.metrics,
            rec.id if rec is not None else None,
            rec.reference_code if rec is not None else "",
        )

    # --- shutdown -----------------------------------------------------------------------------

    async def shutdown(self) -> None:
        await self.actions.shutdown()
        if self._start_task is not None and not self._start_task.done():
            self._start_task.cancel()
            await asyncio.gather(self._start_task, return_exceptions=True)
        await self.tasks.cancel_all()
        try:
            viewer = self.feed.viewer
            if viewer is not None and shiboken6.isValid(viewer):
                viewer.close()
            if shiboken6.isValid(self.performance):
                self.performance.shutdown()
            await self._close_source()
        finally:
            # Whatever failed above, no worker thread may outlive the app.
            self.thumbnails.shutdown()
