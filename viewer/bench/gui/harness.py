"""The window under test: the real MainWindow and MainPresenter on the scratch database.

Built as viewer/app.py's run_gui builds them (viewer.bench may not import viewer.app, its
sibling layer, so the few settings are repeated here and a test checks they agree): the GIL
switch interval, the heap frozen after the first view, the thumbnail service with the default
memory cache, the window size. Each session has its own temporary data dir, so its settings,
disk thumbnail cache and memory cache start empty and are never the user's.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import (
    QMessageLogContext,
    QSettings,
    QtMsgType,
    SignalInstance,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QApplication

from db.config import AppPaths
from db.engine import Database
from viewer.allocator import map_large_blocks
from viewer.bench.gui.dataset import GuiDataset
from viewer.bench.gui.probes import Heartbeat, LoadRecorder, MemoryProbe, PaintProbe
from viewer.bench.gui.results import GuiConfig
from viewer.bench.gui.stalls import StallSampler
from viewer.gc_pacer import manage_heap
from viewer.presenters.main import MainPresenter
from viewer.presenters.session import LiveDatabase
from viewer.thumbnails.cache import MIB, ThumbnailCache
from viewer.thumbnails.disk_cache import DiskThumbnailCache, app_thumbnail_root
from viewer.thumbnails.service import ThumbnailService
from viewer.widgets.main_window import MainWindow

# As viewer/app.py: WINDOW_SIZE, GIL_SWITCH_INTERVAL_S (tests/integration/test_bench_gui.py
# checks that they agree).
WINDOW_SIZE = (1440, 860)
GIL_SWITCH_INTERVAL_S = 0.001
IDLE_POLL_S = 0.05
OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints"


@dataclass
class Probes:
    heartbeat: Heartbeat
    paint: PaintProbe
    memory: MemoryProbe
    loads: LoadRecorder
    stalls: StallSampler | None


@dataclass
class Session:
    window: MainWindow
    presenter: MainPresenter
    probes: Probes

    @property
    def thumbnails(self) -> ThumbnailService:
        return self.presenter.thumbnails

    def selected_id(self) -> int | None:
        """The inspection selected in the window's list."""
        selected = self.window.selected_inspection()
        return None if selected is None else selected.id

    def row_of(self, inspection_id: int) -> int:
        row = self.window.inspections.row_of(inspection_id)
        if row < 0:
            raise RuntimeError(f"inspection {inspection_id} is not in the window's list")
        return row

    def forget_loaded(self, inspection_id: int | None = None) -> None:
        """Drop the loader's recent results, so the next selection asks the database."""
        if self.presenter.loader is not None:
            self.presenter.loader.invalidate(inspection_id)

    async def wait_idle(self, timeout_s: float) -> bool:
        """Until the thumbnail workers have nothing queued, running or left to write."""
        deadline = time.monotonic() + timeout_s
        while not self.thumbnails.is_idle():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(IDLE_POLL_S)
        return True

    async def settle(self, timeout_s: float) -> None:
        """Until nothing is left running: the selected inspection's load (a load recorded
        during the next run must be that run's) and the thumbnail workers."""
        loader = self.presenter.selection.loader
        if loader is not None:
            await asyncio.wait_for(loader.wait(), timeout_s)
        await self.wait_idle(timeout_s)

    async def show(self, inspection_id: int, media_ids: frozenset[int], timeout_s: float) -> None:
        """Select an inspection outside any measurement; wait until all its photos are in the
        grid and the thumbnail workers are idle."""
        self.window.select_inspection_row(self.row_of(inspection_id))
        deadline = time.monotonic() + timeout_s
        model = self.window.media
        while not (
            model.rowCount() == len(media_ids)
            and (first := model.item(0)) is not None
            and first.id in media_ids
        ):
            if time.monotonic() > deadline:
                raise RuntimeError(f"inspection {inspection_id} was not shown in {timeout_s} s")
            await asyncio.sleep(IDLE_POLL_S)
        await self.settle(timeout_s)


def signal_future(signal: SignalInstance) -> asyncio.Future[None]:
    """A future that completes the first time `signal` is emitted."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def fire(*_args: Any) -> None:
        if not future.done():
            future.set_result(None)

    signal.connect(fire)
    future.add_done_callback(lambda _f: signal.disconnect(fire))
    return future


@contextlib.contextmanager
def qt_application() -> Iterator[QApplication]:
    """The running QApplication (a test's) or a new one; windows closing must not quit it."""
    app = QApplication.instance()
    if app is not None and not isinstance(app, QApplication):
        raise RuntimeError("the GUI benchmark needs a QApplication, not a QGuiApplication")
    ours = app is None  # then its log is ours to filter (a test's belongs to pytest-qt)
    previous_handler = qInstallMessageHandler(_qt_message) if ours else None
    if app is None:
        app = QApplication(sys.argv[:1])
    quit_on_close = app.quitOnLastWindowClosed()
    switch = sys.getswitchinterval()
    app.setQuitOnLastWindowClosed(False)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)  # viewer.app.tune_interpreter
    map_large_blocks()  # as tune_interpreter too; for the process, as the app's is
    try:
        yield app
    finally:
        sys.setswitchinterval(switch)
        app.setQuitOnLastWindowClosed(quit_on_close)
        if ours:
            qInstallMessageHandler(previous_handler)


def _qt_message(_mode: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    # The offscreen platform says this for every top-level window; it is not a finding.
    if OFFSCREEN_NOISE not in message:
        print(message, file=sys.stderr)


@contextlib.asynccontextmanager
async def open_session(
    dataset: GuiDataset, config: GuiConfig, start_on: int
) -> AsyncIterator[Session]:
    """A window on the dataset, showing inspection `start_on`, with its probes installed."""
    with tempfile.TemporaryDirectory(prefix="inspection-viewer-bench-gui-") as folder:
        paths = AppPaths(data_dir=Path(folder) / "data", media_url=dataset.media_dir.as_uri())
        paths.data_dir.mkdir(parents=True)
        settings = QSettings(str(paths.data_dir / "settings.ini"), QSettings.Format.IniFormat)
        reference = next(
            s.reference
            for s in (dataset.small, dataset.demo_large, dataset.generated)
            if s.id == start_on
        )
        settings.setValue("selection/inspection", reference)
        window = MainWindow(settings)
        window.resize(*WINDOW_SIZE)
        thumbnails = ThumbnailService(
            ThumbnailCache(config.cache_mb * MIB),
            DiskThumbnailCache(app_thumbnail_root(paths.cache_dir)),
            workers=config.workers,
        )
        source = LiveDatabase(Database(paths, dataset.libpq), paths)
        presenter = MainPresenter(window, paths, source, thumbnails)
        pacer = manage_heap(presenter)
        try:
            await _start(window, presenter, config.timeout_s)
            yield Session(window, presenter, _probes(window, presenter, config))
        finally:
            pacer.stop()
            await _close(window, presenter)


async def _start(window: MainWindow, presenter: MainPresenter, timeout_s: float) -> None:
    ready = signal_future(presenter.first_view_ready)
    window.show()
    presenter.start()
    await asyncio.wait_for(ready, timeout_s)
    if window.pages.currentWidget() is window.startup:
        raise RuntimeError(f"the window could not start: {window.startup.error.text()}")


def _probes(window: MainWindow, presenter: MainPresenter, config: GuiConfig) -> Probes:
    heartbeat = Heartbeat(window)
    return Probes(
        heartbeat=heartbeat,
        paint=PaintProbe(window, heartbeat),
        memory=MemoryProbe(window),
        loads=LoadRecorder(presenter.metrics),
        stalls=StallSampler(heartbeat) if config.stall_stacks else None,
    )


async def _close(window: MainWindow, presenter: MainPresenter) -> None:
    thumbnails = presenter.thumbnails
    try:
        await presenter.shutdown()
    finally:
        window.close()
        window.deleteLater()
        # The service has no Qt parent: its C++ side keeps the presenter's lambdas connected
        # to its signals alive, and they the presenter, the window's models and the memory
        # cache, in a cycle the garbage collector cannot see through. Deleting it breaks that.
        shiboken6.delete(thumbnails)
        await asyncio.sleep(0)  # the window's deferred delete
        # The next session's objects must be collectable again: the frozen heap of this one
        # would otherwise stay for good and count in the next session's memory.
        gc.unfreeze()
        gc.collect()
