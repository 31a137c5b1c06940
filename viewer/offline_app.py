"""The app on an offline bundle: the same window and loaders, on the bundle's SQLite copy.

No PostgreSQL is started and nothing goes over the network: the controller gets its engine from
db.offline.open_bundle instead of bootstrap.prepare, and photo paths from the bundle's checked
cache instead of the media root. Everything else is the online app's code.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

from db.bundle import BundleError
from db.config import AppPaths
from db.diagnostics import OFFLINE_MESSAGE, ServerReport
from db.engine import Database
from db.errors import KnownError
from db.loader import MediaBatchLoader, SelectionLoader
from db.offline import OfflineBundle, open_bundle
from db.records import MediaItem
from viewer.app import GuiOptions, make_thumbnail_service, open_window, run_window
from viewer.controller import AppController
from viewer.thumbnails.service import GRID_SIZE, ThumbnailRequest, ThumbnailService
from viewer.widgets.main_window import MainWindow

log = logging.getLogger(__name__)

# Not a file: a photo that is not in the bundle gets the thumbnail service's "missing" tile.
_UNAVAILABLE = Path("/nonexistent/inspection-viewer/offline-media-unavailable")


class OfflineController(AppController):
    """AppController whose database is an opened bundle (read-only, no server)."""

    def __init__(
        self, window: MainWindow, paths: AppPaths, bundle_path: Path, thumbnails: ThumbnailService
    ) -> None:
        # A Database that is never opened: AppController's shutdown closes it, which is a no-op.
        super().__init__(window, paths, Database(paths), thumbnails)
        self.bundle_path = bundle_path
        self.bundle: OfflineBundle | None = None
        self._prefetch: threading.Thread | None = None
        self._stop_prefetch = threading.Event()
        window.open_database_action.setEnabled(False)  # an offline window stays on its bundle
        window.take_offline_action.setEnabled(False)  # it is offline already
        window.setWindowTitle(f"{bundle_path.name} - Inspection Viewer (offline, read-only)")

    async def _start(self) -> None:
        try:
            if self.bundle is None:
                self.window.show_progress(f"Opening {self.bundle_path.name}...", 0, 0)
                bundle = await asyncio.to_thread(
                    open_bundle, self.bundle_path, self.paths.cache_dir
                )
                self.bundle = bundle
                self.engine = bundle.engine
                self.metrics.instrument(bundle.engine.sync_engine)
                self.loader = MediaBatchLoader(bundle.engine, self.metrics)
                self.selection_loader = SelectionLoader(
                    self.loader, self._on_selection, self._on_selection_failed
                )
                self._prefetch_thumbnails(bundle)
            self.window.set_database_label(self.bundle.display)
            self.window.show_progress("Loading inspections...", 0, 0)
            await self._load_first_page()
        except KnownError as exc:
            self._startup_failed(str(exc))
        except Exception as exc:  # a bug: log the traceback, tell the user, keep the window
            log.exception("opening the bundle failed")
            self._startup_failed(f"Unexpected error: {exc!r}. Details are in the log.")

    async def server_report(self) -> ServerReport:
        # A bundle is SQLite: there is no server, and nothing is asked.
        return ServerReport.unavailable(OFFLINE_MESSAGE)

    def _prefetch_thumbnails(self, bundle: OfflineBundle) -> None:
        # The grid asks for thumbnail paths on the GUI thread; extracting (and checking) the
        # small PNGs ahead in a worker makes those calls cache lookups.
        names = [n for n in bundle.manifest.files if n.startswith("thumbnails/")]

        def extract_all() -> None:
            for name in names:
                if self._stop_prefetch.is_set():
                    return
                try:
                    bundle.archive.extract(name)
                except BundleError as exc:
                    log.warning("%s", exc)

        self._prefetch = threading.Thread(target=extract_all, name="bundle-thumbnail-prefetch")
        self._prefetch.start()

    def _request(self, item: MediaItem, size: int) -> ThumbnailRequest:
        if self.bundle is None:
            return ThumbnailRequest(item.id, _UNAVAILABLE, size)
        try:
            path = self.bundle.thumbnail_path(item) if size <= GRID_SIZE else None
            return ThumbnailRequest(item.id, path or self.bundle.media_path(item), size)
        except BundleError as exc:
            log.info("%s", exc)
            return ThumbnailRequest(item.id, _UNAVAILABLE, size)

    async def _close_database(self) -> None:
        if self._prefetch is not None:
            self._stop_prefetch.set()
            await asyncio.to_thread(self._prefetch.join)  # before the archive closes under it
            self._prefetch = None
        await super()._close_database()
        bundle, self.bundle = self.bundle, None
        if bundle is not None:
            await bundle.close()


def run_offline_gui(bundle_path: Path, paths: AppPaths, screenshot: Path | None = None) -> int:
    """Open the main window on a bundle; with `screenshot`, save the first view and exit."""
    options = GuiOptions(screenshot=screenshot)
    app, loop, settings, window = open_window(paths, options)
    thumbnails = make_thumbnail_service(paths, settings, options)
    controller = OfflineController(window, paths, bundle_path, thumbnails)
    return run_window(app, loop, window, controller, screenshot)
