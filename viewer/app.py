"""Application bootstrap: QApplication, the qasync event loop, window, controller, shutdown."""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

# PySide6 before qasync: qasync picks the Qt binding that is already imported (STYLE.md).
import PySide6  # noqa: F401
import qasync
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QApplication

from db.config import AppPaths, database_url_from_env
from db.engine import Database
from db.storage import remote_fetch_parallelism
from viewer.allocator import map_large_blocks
from viewer.gc_pacer import manage_heap
from viewer.presenters.main import MainPresenter
from viewer.presenters.session import LiveDatabase, OfflineBundleSource
from viewer.resources import ICON, resource
from viewer.thumbnails.cache import MIB, ThumbnailCache
from viewer.thumbnails.disk_cache import DiskThumbnailCache, app_thumbnail_root
from viewer.thumbnails.service import ThumbnailService
from viewer.widgets.main_window import MainWindow
from viewer.words import count

log = logging.getLogger(__name__)

WINDOW_SIZE = (1440, 860)
DEFAULT_CACHE_MB = 128
# A screenshot run that never gets its first inspection on screen must still end.
SCREENSHOT_TIMEOUT_MS = 180_000


@dataclass(frozen=True)
class GuiOptions:
    screenshot: Path | None = None
    window_size: tuple[int, int] | None = None  # None: as left, or WINDOW_SIZE
    thumbnail_cache_mb: int | None = None  # None: from settings, else the default
    thumbnail_workers: int | None = None  # None: one per CPU core


# Thumbnail workers run Python between their GIL-free decodes; with the default 5 ms switch
# interval the GUI thread could wait that long to get the GIL back after every Qt call, and a
# burst of thumbnails became 50+ ms stalls. 1 ms keeps the window's frame time.
GIL_SWITCH_INTERVAL_S = 0.001


def tune_interpreter() -> None:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    map_large_blocks()


def create_application() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName("Inspection Viewer")
    app.setOrganizationName("Inspection Viewer")
    app.setDesktopFileName("inspection-viewer")
    app.setWindowIcon(app_icon())
    return app


def app_icon() -> QIcon:
    """The icon shipped in the package (read as bytes: a wheel, an egg or a zip all work)."""
    pixmap = QPixmap()
    pixmap.loadFromData(resource(ICON).read_bytes(), "PNG")
    return QIcon(pixmap)


def open_settings(paths: AppPaths) -> QSettings:
    """Settings in the user's config folder; with --data-dir in the data dir, so that gives a
    whole separate profile."""
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    return QSettings(str(paths.settings_file), QSettings.Format.IniFormat)


def make_thumbnail_service(
    paths: AppPaths, settings: QSettings, options: GuiOptions
) -> ThumbnailService:
    cache_mb = options.thumbnail_cache_mb
    if cache_mb is None:
        stored = settings.value("thumbnails/cache_mb", DEFAULT_CACHE_MB)
        try:
            cache_mb = max(1, int(str(stored)))
        except ValueError:
            log.warning("ignoring thumbnails/cache_mb=%r in settings", stored)
            cache_mb = DEFAULT_CACHE_MB
    else:
        settings.setValue("thumbnails/cache_mb", cache_mb)
    workers = options.thumbnail_workers
    if workers is None:  # photos over the network: as many workers as fetches may be in flight
        workers = remote_fetch_parallelism(paths.media_url)
    return ThumbnailService(
        ThumbnailCache(cache_mb * MIB),
        DiskThumbnailCache(app_thumbnail_root(paths.cache_dir)),
        workers=workers,
    )


def run_gui(paths: AppPaths, database: Database, options: GuiOptions | None = None) -> int:
    options = options or GuiOptions()
    app, loop, settings, window = open_window(paths, options)
    thumbnails = make_thumbnail_service(paths, settings, options)

    def database_for(url: str) -> LiveDatabase:
        return LiveDatabase(Database(paths, url or database_url_from_env(None)), paths)

    presenter = MainPresenter(
        window, paths, LiveDatabase(database, paths), thumbnails, source_for_url=database_for
    )
    return run_window(app, loop, window, presenter, options.screenshot)


def run_offline_gui(bundle_path: Path, paths: AppPaths, screenshot: Path | None = None) -> int:
    """Open the main window on a bundle; with `screenshot`, save the first view and exit."""
    options = GuiOptions(screenshot=screenshot)
    app, loop, settings, window = open_window(paths, options)
    thumbnails = make_thumbnail_service(paths, settings, options)
    presenter = MainPresenter(window, paths, OfflineBundleSource(bundle_path, paths), thumbnails)
    return run_window(app, loop, window, presenter, screenshot)


def save_screenshot(window: MainWindow, path: Path) -> bool:
    ok = window.grab().save(str(path), "PNG")
    if ok:
        listed = count(window.inspections.rowCount(), "inspection")
        print(f"screenshot saved to {path} ({listed} listed)")
    else:
        print(f"inspection-viewer: could not write {path}", file=sys.stderr)
    return ok


def open_window(
    paths: AppPaths, options: GuiOptions
) -> tuple[QApplication, qasync.QEventLoop, QSettings, MainWindow]:
    """The application, its qasync loop, the settings and the (not yet shown) main window."""
    tune_interpreter()
    app = create_application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    settings = open_settings(paths)
    window = MainWindow(settings)
    if options.window_size is not None:
        window.resize(*options.window_size)
    elif options.screenshot is not None or not settings.contains("window/geometry"):
        window.resize(*WINDOW_SIZE)
    return app, loop, settings, window


def run_window(
    app: QApplication,
    loop: qasync.QEventLoop,
    window: MainWindow,
    presenter: MainPresenter,
    screenshot: Path | None,
) -> int:
    """Show the window, run until it quits, shut down cleanly. With `screenshot`: save the
    first view (thumbnails in, or the error state) as PNG and quit; 1 if it was an error."""
    exit_code = [0]
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    pacer = manage_heap(presenter)
    if screenshot is not None:
        shot = screenshot

        def take() -> None:
            # Let layouts settle and the last thumbnails paint before grabbing.
            def grab() -> None:
                if not save_screenshot(window, shot):
                    exit_code[0] = 1
                if window.pages.currentWidget() is window.startup:
                    print(f"inspection-viewer: {window.startup.error.text()}", file=sys.stderr)
                    exit_code[0] = 1
                app.quit()

            QTimer.singleShot(150, grab)

        def timed_out() -> None:
            print("inspection-viewer: timed out waiting for the first inspection", file=sys.stderr)
            exit_code[0] = 1
            app.quit()

        presenter.first_view_ready.connect(take)
        QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, timed_out)

    window.show()
    presenter.start()
    with loop:
        loop.run_until_complete(closed.wait())
        window.save_settings()
        loop.run_until_complete(presenter.shutdown())
    pacer.stop()
    return exit_code[0]
