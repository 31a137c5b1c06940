"""Make the README's screenshots of the photo viewer from the real app (offscreen).

    QT_QPA_PLATFORM=offscreen python docs/screenshots.py --data-dir /tmp/iv

The main window and the error state come from `inspection-viewer --screenshot PATH` itself;
the viewer is a dialog that option does not open, so this script drives the app one step
further: it starts the real window and controller on the data dir's embedded database, selects
the large demo inspection, opens the viewer on a photo and saves the dialog as a PNG.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import PySide6  # noqa: F401 - before qasync
import qasync
from PySide6.QtCore import QTimer

from db.config import resolve_paths
from db.demo import LARGE_INSPECTION_REFERENCE
from db.engine import Database
from viewer.app import GuiOptions, create_application, make_thumbnail_service, open_settings
from viewer.presenters.main import MainPresenter
from viewer.presenters.session import LiveDatabase
from viewer.widgets.main_window import MainWindow


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--out", default=str(Path(__file__).parent / "screenshot-viewer.png"))
    parser.add_argument("--photo", type=int, default=5, help="row of the photo in the grid")
    args = parser.parse_args()
    paths = resolve_paths(args.data_dir)
    app = create_application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    settings = open_settings(paths)
    settings.setValue("selection/inspection", LARGE_INSPECTION_REFERENCE)
    window = MainWindow(settings)
    window.resize(1440, 860)
    controller = MainPresenter(
        window,
        paths,
        LiveDatabase(Database(paths), paths),
        make_thumbnail_service(paths, settings, GuiOptions()),
    )
    result = [1]

    def open_viewer() -> None:
        controller.feed.open_viewer(args.photo, controller.selection.titles())
        viewer = controller.feed.viewer
        assert viewer is not None

        def grab_when_shown() -> None:
            if viewer.message.isVisible():
                QTimer.singleShot(50, grab_when_shown)
                return
            result[0] = 0 if viewer.grab().save(args.out, "PNG") else 1
            print(f"saved {args.out}")
            app.quit()

        QTimer.singleShot(100, grab_when_shown)

    controller.first_view_ready.connect(lambda: QTimer.singleShot(200, open_viewer))
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    window.show()
    controller.start()
    with loop:
        loop.run_until_complete(closed.wait())
        loop.run_until_complete(controller.shutdown())
    return result[0]


if __name__ == "__main__":
    sys.exit(main())
