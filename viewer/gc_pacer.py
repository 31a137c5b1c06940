"""Python's garbage collector, kept off the critical path of the window.

Measured with `bench gui` (a 20,000-photo inspection loaded, then the 1,100-photo one): the
collector's automatic full collections (generation 2) ran on the GUI thread six times and took
up to 119 ms of CPU each, a frozen window at a moment chosen by the allocator. The young
generations cost little when they are collected as often as the interpreter does (every 700
allocations), so they stay automatic: only the full collection is taken over. It waits until
the window has been quiet for a moment (no selection, no scroll), or at the latest a few
minutes, so cyclic garbage stays bounded whatever the user does.

An earlier version turned the collector off and collected the young generations from a 100 ms
timer, so a burst of allocations (20,000 rows streaming in) waited in generation 0 for one
larger collection. Timed with gc.callbacks on the GUI thread over `bench gui --only large
--scroll-viewports 20`: the longest young collection went from 4.1 ms (generation 0) and
11.2 ms (generation 1) with the timer to 1.5 and 5.4 ms left to the interpreter.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

if TYPE_CHECKING:
    from viewer.presenters.main import MainPresenter

log = logging.getLogger(__name__)

# How often the timer looks whether a full collection is due (ms).
CHECK_MS = 100
# While the pacer runs, the interpreter's own threshold for a full collection (generation 1
# collections since the last full one): never reached, so never automatic.
NEVER = 2**30
# A full collection is due by the interpreter's own count (young collections since the last
# one, against the threshold it had), and then waits for this much quiet (s) ...
QUIET_S = 2.0
# ... but never longer than this (s).
FULL_AT_LATEST_S = 300.0


class CollectionPacer(QObject):
    """Owns the full collections while started: `note_activity()` on anything the user waits
    for. The young generations stay the interpreter's."""

    def __init__(
        self, parent: QObject | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_MS)
        self._timer.timeout.connect(self.tick)
        self._thresholds: tuple[int, int, int] = gc.get_threshold()
        self._last_activity = clock()
        self._last_full = clock()
        self.full_collections = 0

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def start(self) -> None:
        if self.running:
            return
        self._thresholds = gc.get_threshold()
        threshold0, threshold1, _ = self._thresholds
        gc.set_threshold(threshold0, threshold1, NEVER)
        self._timer.start()

    def stop(self) -> None:
        """Hand the full collections back to the interpreter."""
        if not self.running:
            return
        self._timer.stop()
        gc.set_threshold(*self._thresholds)

    def note_activity(self, *_args: object) -> None:
        self._last_activity = self._clock()

    def tick(self) -> None:
        threshold2 = self._thresholds[2]
        count2 = gc.get_count()[2]
        now = self._clock()
        if now - self._last_full >= FULL_AT_LATEST_S or (
            count2 >= threshold2 and now - self._last_activity >= QUIET_S
        ):
            self.collect_full()

    def collect_full(self) -> None:
        started = time.perf_counter()
        found = gc.collect()
        self.full_collections += 1
        self._last_full = self._clock()
        log.debug(
            "full garbage collection: %d unreachable, %.1f ms",
            found,
            (time.perf_counter() - started) * 1000,
        )


def settle_heap() -> None:
    """Once the window is up: exclude everything alive now (modules, Qt wrappers, SQLAlchemy's
    metadata) from full collections. Those took 40-100 ms with all of it in the oldest
    generation (measured)."""
    gc.collect()
    gc.freeze()


def manage_heap(presenter: MainPresenter) -> CollectionPacer:
    """The window's heap policy (the app's and `bench gui`'s): when the first view is up, freeze
    what is alive and take the collector over; selections and scrolling count as activity.
    The caller stops the pacer at shutdown."""
    window = presenter.window
    pacer = CollectionPacer(window)
    window.inspection_selected.connect(pacer.note_activity)
    window.media_pane.visible_rows_changed.connect(pacer.note_activity)

    def first_view() -> None:
        if not pacer.running:
            settle_heap()
            pacer.start()

    presenter.first_view_ready.connect(first_view)
    return pacer
