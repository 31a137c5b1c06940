"""The simulated user: QTimers that scroll the grid and change the selection at a steady pace.

Timers, not sleeps: the GUI thread stays free between steps, and a step that comes late
because the thread was busy is late exactly as a user's input would have been.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QListView

from viewer.bench.gui.probes import PaintProbe
from viewer.bench.gui.results import ScrollFigures


class ScrollDriver(QObject):
    """Scrolls the grid down one viewport per interval, to the bottom or `limit` viewports.

    The bottom is that of all the photos: while a load still streams rows in, a step that
    finds the grid's current end waits for more.
    """

    def __init__(
        self,
        grid: QListView,
        probe: PaintProbe,
        interval_ms: int,
        limit: int | None,
        patience_s: float,
    ) -> None:
        super().__init__(grid)
        self.grid = grid
        self.probe = probe
        self.limit = limit
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.step_times: list[float | None] = []
        self._started = 0.0
        self._in_step = False
        self._bottom_since = 0.0
        self.patience_s = patience_s
        self._done: asyncio.Future[ScrollFigures] | None = None

    def run(self) -> asyncio.Future[ScrollFigures]:
        self._done = asyncio.get_running_loop().create_future()
        self._started = time.perf_counter()
        self.probe.heartbeat.phase = "scroll"
        self._tick()
        self.timer.start()
        return self._done

    def _tick(self) -> None:
        if self._in_step:  # the last step had one interval to be painted in full
            self.step_times.append(self.probe.end_step())
            self._in_step = False
        bar = self.grid.verticalScrollBar()
        if self.limit is not None and len(self.step_times) >= self.limit:
            self._finish()
            return
        if bar.value() >= bar.maximum():
            # Rows may still be streaming in: the grid grows, wait for them (a while).
            now = time.perf_counter()
            self._bottom_since = self._bottom_since or now
            if self.probe.has_all_rows or now - self._bottom_since > self.patience_s:
                self._finish()
            return
        self._bottom_since = 0.0
        self.probe.begin_step(time.perf_counter())
        self._in_step = True
        bar.setValue(min(bar.maximum(), bar.value() + self.grid.viewport().height()))

    def _finish(self) -> None:
        self.timer.stop()
        self.probe.heartbeat.phase = "settle"
        complete = sorted(t for t in self.step_times if t is not None)
        figures = ScrollFigures(
            viewports=len(self.step_times),
            seconds=round(time.perf_counter() - self._started, 3),
            complete=len(complete),
            complete_p50_ms=round(complete[len(complete) // 2] * 1000, 3) if complete else None,
        )
        if self._done is not None and not self._done.done():
            self._done.set_result(figures)

    def cancel(self) -> None:
        self.timer.stop()


class SelectionDriver(QObject):
    """Selects rows of the inspection list one after the other, `interval_ms` apart."""

    def __init__(
        self,
        select_row: Callable[[int], None],
        rows: Sequence[int],
        interval_ms: int,
        on_last: Callable[[float], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.select_row = select_row
        self.rows = list(rows)
        self.on_last = on_last
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self._next = 0

    def run(self) -> None:
        self._tick()
        self.timer.start()

    def _tick(self) -> None:
        if self._next >= len(self.rows):
            self.timer.stop()
            return
        row = self.rows[self._next]
        self._next += 1
        if self._next == len(self.rows):
            self.timer.stop()
            self.on_last(time.perf_counter())  # arms the probe before the selection starts
        self.select_row(row)

    def cancel(self) -> None:
        self.timer.stop()
