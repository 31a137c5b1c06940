"""Make the README's screenshot of the performance panel from the real app, offscreen."""

# QT_QPA_PLATFORM=offscreen python docs/screenshot_performance.py --data-dir /tmp/iv
#
# It starts the real window and controller on the data dir's embedded database (created with the
# demo on first use), opens the panel as F12 does, browses several inspections as a user would
# (waiting for each one's thumbnails), asks the server side once, and saves the window. A fresh
# data dir gives a cold thumbnail cache, so the decode figures are real decodes.

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

import PySide6  # noqa: F401 - before qasync
import qasync
from PySide6.QtCore import Qt

from db.config import resolve_paths
from db.demo import BAD_MEDIA_INSPECTION_REFERENCE, LARGE_INSPECTION_REFERENCE
from db.engine import Database
from viewer.app import GuiOptions, create_application, make_thumbnail_service, open_settings
from viewer.presenters.main import MainPresenter
from viewer.presenters.session import LiveDatabase
from viewer.widgets.main_window import MainWindow

WINDOW_SIZE = (1720, 980)
PANEL_WIDTH = 640
BROWSE = 5  # inspections with photos, before the large one


async def wait_for(condition: Callable[[], bool], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(0.05)


async def browse(window: MainWindow, controller: MainPresenter) -> None:
    model = window.inspections

    def settled() -> bool:
        rows = window.media_pane.visible_rows()
        shown = rows is None or all(window.media.has_image(r) for r in range(rows[0], rows[1] + 1))
        return shown and controller.thumbnails.is_idle()

    async def select(row: int) -> None:
        rec = model.record(row)
        assert rec is not None
        window.select_inspection_row(row)
        await wait_for(
            lambda: getattr(controller.selection.selection, "inspection_id", None) == rec.id
        )
        await asyncio.sleep(0.1)  # the grid asks for its visible thumbnails after a beat
        await wait_for(settled)

    # Inspections with photos, but not the one whose files are broken on purpose.
    rows = [
        r
        for r in range(model.rowCount())
        if (rec := model.record(r))
        and rec.media_count
        and rec.reference_code != BAD_MEDIA_INSPECTION_REFERENCE
    ]
    large = next(r for r in rows if model.record(r).reference_code == LARGE_INSPECTION_REFERENCE)
    for row in rows[:BROWSE]:
        await select(row)
    await select(large)
    await select(rows[1])  # back to one already seen: the caches answer
    await select(rows[BROWSE])  # and a new one, the one the server side explains
    panel = controller.performance
    panel.refresh_server()
    await wait_for(lambda: panel.figures is not None and panel.figures.server is not None)
    panel.refresh()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--out", default=str(Path(__file__).parent / "screenshot-performance.png"))
    parser.add_argument("--tab", type=int, default=0, help="the panel's tab to show")
    parser.add_argument("--panel-only", action="store_true", help="save the dock alone")
    parser.add_argument("--server-tab", type=int, default=0, help="the server part to show")
    args = parser.parse_args()
    paths = resolve_paths(args.data_dir)
    app = create_application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    settings = open_settings(paths)
    settings.remove("window/state")  # the panel's place and size come from here, not last run
    window = MainWindow(settings)
    window.resize(*WINDOW_SIZE)
    controller = MainPresenter(
        window,
        paths,
        LiveDatabase(Database(paths), paths),
        make_thumbnail_service(paths, settings, GuiOptions()),
    )
    result = [1]

    async def run() -> None:
        await wait_for(lambda: window.inspections.rowCount() > 0, timeout_s=600)
        window.toggle_performance_panel()
        window.resizeDocks([controller.performance], [PANEL_WIDTH], Qt.Orientation.Horizontal)
        window.splitter.setSizes([430, 300, 330])
        await browse(window, controller)
        controller.performance.tabs.setCurrentIndex(args.tab)
        controller.performance.server_tabs.setCurrentIndex(args.server_tab)
        await asyncio.sleep(0.3)  # layouts settle, the last thumbnails paint
        shot = controller.performance.grab() if args.panel_only else window.grab()
        result[0] = 0 if shot.save(args.out, "PNG") else 1
        print(f"saved {args.out}")

    def finished(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            print(f"screenshot failed: {task.exception()!r}", file=sys.stderr)
        app.quit()

    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    window.show()
    controller.start()
    with loop:
        task = loop.create_task(run())
        task.add_done_callback(finished)
        loop.run_until_complete(closed.wait())
        loop.run_until_complete(controller.shutdown())
    return result[0]


if __name__ == "__main__":
    sys.exit(main())
