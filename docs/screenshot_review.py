"""Make the README's picture of a review in progress from the real app (offscreen).

    QT_QPA_PLATFORM=offscreen python docs/screenshot_review.py --data-dir /tmp/iv

Starts the real window on the data dir's embedded database, opens the large demo inspection,
records verdicts, a comment and photo flags through the review presenter (as the keys and
buttons do; into that database), shows an item that needs rework and saves the window.
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
from db.review.records import ReviewKind
from viewer.app import GuiOptions, create_application, make_thumbnail_service, open_settings
from viewer.presenters.main import MainPresenter
from viewer.presenters.review import REVIEWER_KEY
from viewer.presenters.session import LiveDatabase
from viewer.widgets.main_window import MainWindow

VERDICTS = ["accepted"] * 5 + ["needs_rework", "accepted", "not_applicable", "accepted"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--out", default=str(Path(__file__).parent / "screenshot-review.png"))
    args = parser.parse_args()
    paths = resolve_paths(args.data_dir)
    app = create_application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    settings = open_settings(paths)
    settings.setValue("selection/inspection", LARGE_INSPECTION_REFERENCE)
    settings.setValue(REVIEWER_KEY, "Dana Reviewer")
    window = MainWindow(settings)
    window.resize(1440, 900)
    controller = MainPresenter(
        window,
        paths,
        LiveDatabase(Database(paths), paths),
        make_thumbnail_service(paths, settings, GuiOptions()),
    )
    review = controller.review
    result = [1]

    async def scenario() -> None:
        while review.state is None or controller.selection.selection is None:
            await asyncio.sleep(0.05)
        checklist = controller.selection.selection.checklist
        for entry, value in zip(checklist, VERDICTS, strict=False):
            window.tree.setCurrentIndex(window.checklist.index_of_item(entry.id))
            review.record_verdict(value)
        rework = checklist[VERDICTS.index("needs_rework")]
        window.tree.setCurrentIndex(window.checklist.index_of_item(rework.id))
        review.pane.comment.setPlainText("Silt and leaves in the pit: clear it and re-photograph.")
        review.record_comment(review.pane.comment.toPlainText())
        media = controller.selection.selection.media.media.for_item(rework.id)
        for photo, flag in zip(media, ["evidence", "unclear"], strict=False):
            review._record(ReviewKind.PHOTO, photo.id, flag, None)
        await asyncio.sleep(1.5)
        window.tree.setCurrentIndex(window.checklist.index_of_item(checklist[len(VERDICTS)].id))
        window.tree.setCurrentIndex(window.checklist.index_of_item(rework.id))
        await asyncio.sleep(1.5)
        result[0] = 0 if window.grab().save(args.out, "PNG") else 1
        print(f"saved {args.out}")
        app.quit()

    controller.first_view_ready.connect(lambda: QTimer.singleShot(200, start_scenario))

    def start_scenario() -> None:
        controller.tasks.spawn(scenario())

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
