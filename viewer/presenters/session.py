"""The DataSource a window shows: a live database or an opened offline bundle, one interface.

Opening is blocking work (start the server, migrate, extract a bundle): it runs in a worker
thread and reports progress; everything after that is async on the qasync loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from db.config import AppPaths
from db.diagnostics import OFFLINE_MESSAGE, ServerReport, engine_server_report
from db.engine import Database, DatabaseTarget, make_async_engine, make_engine
from db.metrics import QueryMetrics
from db.offline import BundleError, ExportSummary, OfflineBundle, export_bundle, open_bundle
from db.offline.journal import BundleIdentity, ReviewJournal, journal_path
from db.progress import ProgressCallback
from db.review.records import ReviewRecord
from db.review.store import DatabaseReviews, JournalReviews, ReviewStore
from db.review.summary import SyncSummary
from db.review.sync import sync_bundle
from db.storage import MediaStore, open_media
from viewer import bootstrap

log = logging.getLogger(__name__)

# A bundle export, given the progress callback and the cancel flag (run in a worker thread).
ExportJob = Callable[[ProgressCallback, threading.Event], ExportSummary]
# Makes the offline thumbnails: a photo file in, PNG bytes out (Qt code, so passed in).
Thumbnailer = Callable[[Path], bytes | None]


class DataSource(ABC):
    """Inspections (an async engine) and their photos (a MediaStore), opened once."""

    #: Whether this source can be taken offline and switched for another database.
    live: bool = True

    def __init__(self) -> None:
        self._engine: AsyncEngine | None = None
        self._store: MediaStore | None = None
        self.display = ""
        # Where review records go: the database, or the bundle's journal (set on open).
        self.reviews: ReviewStore | None = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("the data source is not open")
        return self._engine

    @property
    def store(self) -> MediaStore:
        if self._store is None:
            raise RuntimeError("the data source is not open")
        return self._store

    @property
    def is_open(self) -> bool:
        return self._engine is not None

    @property
    def window_title(self) -> str | None:
        """A title of its own for the window, or None for the app's."""
        return None

    @abstractmethod
    async def open(self, progress: ProgressCallback) -> None:
        """Get ready: afterwards `engine`, `store` and `display` are set. KnownError if not."""

    async def record_review(self, record: ReviewRecord, metrics: QueryMetrics) -> None:
        """Append a review record: to the database, or to an opened bundle's journal."""
        if self.reviews is None:
            raise RuntimeError("the data source is not open")
        await self.reviews.record(record, metrics)

    async def close(self) -> None:
        self.reviews = None
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.dispose()
        store, self._store = self._store, None
        if store is not None:
            await asyncio.to_thread(store.close)

    @abstractmethod
    async def server_report(
        self, metrics: QueryMetrics, inspection_id: int | None, reference: str
    ) -> ServerReport: ...

    def export_job(
        self, references: Sequence[str], out: Path, thumbnailer: Thumbnailer
    ) -> ExportJob | None:
        """The job that takes these inspections offline, or None where that makes no sense."""
        return None

    def sync_job(self, bundle: Path) -> Callable[[], SyncSummary] | None:
        """The job that pushes a bundle's review journal here (blocking: run it in a worker
        thread), or None where there is no database to push to."""
        return None


class LiveDatabase(DataSource):
    """The embedded PostgreSQL or a team's server, and the photos where the config says."""

    def __init__(self, database: Database, paths: AppPaths) -> None:
        super().__init__()
        self.database = database
        self.paths = paths
        self._target: DatabaseTarget | None = None

    async def open(self, progress: ProgressCallback) -> None:
        loop = asyncio.get_running_loop()

        def report(text: str, done: int, total: int) -> None:
            # Called in the worker thread: hop to the loop's (the GUI) thread.
            loop.call_soon_threadsafe(progress, text, done, total)

        target = await asyncio.to_thread(bootstrap.prepare, self.database, self.paths, report)
        self._store = open_media(self.paths)
        self._engine = make_async_engine(target.url)
        self.reviews = DatabaseReviews(self._engine)
        self._target = target
        self.display = target.display

    async def close(self) -> None:
        await super().close()
        await asyncio.to_thread(self.database.close)

    async def server_report(
        self, metrics: QueryMetrics, inspection_id: int | None, reference: str
    ) -> ServerReport:
        if self._engine is None:
            return ServerReport.unavailable("No database is open yet.")
        return await engine_server_report(
            self._engine, metrics, inspection_id=inspection_id, inspection=reference
        )

    def export_job(
        self, references: Sequence[str], out: Path, thumbnailer: Thumbnailer
    ) -> ExportJob | None:
        if self._target is None:
            return None
        url = self._target.url
        store = self.store

        def run(progress: ProgressCallback, cancel: threading.Event) -> ExportSummary:
            # An engine of its own, short-lived, so nothing is shared with the GUI's loop.
            engine = make_engine(url)
            try:
                return export_bundle(
                    engine,
                    store,
                    references,
                    out=out,
                    progress=progress,
                    cancel=cancel,
                    thumbnailer=thumbnailer,
                )
            finally:
                engine.dispose()

        return run

    def sync_job(self, bundle: Path) -> Callable[[], SyncSummary] | None:
        if self._target is None:
            return None
        url, cache = self._target.url, self.paths.cache_dir

        def run() -> SyncSummary:
            engine = make_engine(url)  # its own, short-lived, as for an export
            try:
                return sync_bundle(engine, bundle, cache)
            finally:
                engine.dispose()

        return run


class OfflineBundleSource(DataSource):
    """An .ivbundle opened read-only: SQLite instead of a server, photos from the archive,
    review records into the bundle's journal."""

    live = False

    def __init__(self, path: Path, paths: AppPaths) -> None:
        super().__init__()
        self.path = path
        self.paths = paths
        self.bundle: OfflineBundle | None = None
        self._prefetch: threading.Thread | None = None
        self._stop_prefetch = threading.Event()

    @property
    def window_title(self) -> str:
        return f"{self.path.name} - Inspection Viewer (offline review)"

    async def open(self, progress: ProgressCallback) -> None:
        progress(f"Opening {self.path.name}...", 0, 0)
        bundle = await asyncio.to_thread(open_bundle, self.path, self.paths.cache_dir)
        self.bundle = bundle
        self._engine = bundle.engine
        self._store = bundle.store
        self.display = bundle.display
        # The bundle stays read-only; review records go to its journal beside it.
        journal = ReviewJournal(journal_path(self.path), BundleIdentity.of(bundle.manifest))
        self.reviews = JournalReviews(journal)
        self._prefetch_thumbnails(bundle)

    def _prefetch_thumbnails(self, bundle: OfflineBundle) -> None:
        # Extracting (and checking) the small PNGs ahead in a thread of its own makes the
        # thumbnail workers' requests for them cache look-ups.
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

    async def close(self) -> None:
        if self._prefetch is not None:
            self._stop_prefetch.set()
            await asyncio.to_thread(self._prefetch.join)  # before the archive closes under it
            self._prefetch = None
        self._engine = None  # the bundle disposes of its own engine
        await super().close()
        bundle, self.bundle = self.bundle, None
        if bundle is not None:
            await bundle.close()

    async def server_report(
        self, metrics: QueryMetrics, inspection_id: int | None, reference: str
    ) -> ServerReport:
        return ServerReport.unavailable(OFFLINE_MESSAGE)  # SQLite: there is no server to ask
