"""What the GUI benchmark measures with: a heartbeat, a paint probe, memory and statement records.

All of it runs on the GUI thread, like the window it watches, and costs microseconds per event:
a beat appends one float, a paint looks at the model's images for the visible rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from PySide6.QtCore import QEvent, QObject, Qt, QTimer

from db.metrics import ActionRecord, QueryMetrics
from db.stats import percentile
from viewer.bench.gui.results import (
    HeartbeatFigures,
    LoadFigures,
    LongGap,
    MemoryFigures,
)
from viewer.widgets.main_window import MainWindow

HEARTBEAT_MS = 1
LONG_GAP_S = 0.016  # a beat this late is kept with its phase: a frame was missed
LONG_GAPS_KEPT = 10
MEMORY_SAMPLE_MS = 20
MIB = 2**20
# (start, end) of a gap, perf_counter -> seconds the host surely held a CPU in it, if known
Stolen = Callable[[float, float], float | None]


class Heartbeat(QObject):
    """A 1 ms timer on the GUI thread: the gaps between its beats are how long the thread was
    busy (or waiting for the GIL) and could not have painted or answered input.

    Each long gap is split by the thread's own clocks: its CPU time, and (Linux) its time
    runnable but waiting for a CPU that other threads or processes had. The rest it was blocked
    (the GIL, a lock, I/O) or its CPU was taken by the host, which the run's steal figure shows.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._beat)
        self.phase = ""
        self.origin = 0.0
        self.last = 0.0  # perf_counter of the last beat; the stall sampler reads it
        self._last_cpu = 0.0
        self._last_waited: float | None = None
        self._schedstat: int | None = None  # the GUI thread's /proc schedstat, opened by start()
        self._gaps: list[float] = []
        # (gap, its end, GUI-thread CPU seconds, seconds waiting for a CPU, phase) of late beats
        self._long: list[tuple[float, float, float, float | None, str]] = []
        self._long_by_start: dict[float, float] = {}

    def start(self, origin: float) -> None:
        self.origin = origin
        self._gaps, self._long, self._long_by_start = [], [], {}
        self._close_schedstat()
        with contextlib.suppress(OSError):  # not Linux: the gaps are not split
            self._schedstat = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        self.last = time.perf_counter()
        self._last_cpu = time.thread_time()
        self._last_waited = self._waited()
        self.timer.start()

    def _beat(self) -> None:
        now, cpu, waited = time.perf_counter(), time.thread_time(), self._waited()
        started, self.last = self.last, now
        gap = now - started
        self._gaps.append(gap)
        if gap >= LONG_GAP_S:
            # The thread's own CPU time tells a busy GUI thread (CPU close to the gap) from
            # one that waited: for the GIL, for I/O, or for a CPU other processes had.
            last = self._last_waited
            cpu_wait = waited - last if waited is not None and last is not None else None
            self._long.append((gap, now, cpu - self._last_cpu, cpu_wait, self.phase))
            self._long_by_start[started] = gap
        self._last_cpu, self._last_waited = cpu, waited

    def _waited(self) -> float | None:
        """Seconds the GUI thread has spent runnable but not running (schedstat's run delay);
        None where the kernel does not tell. About 2 us a call (a pread of an open file)."""
        if self._schedstat is None:
            return None
        try:
            return int(os.pread(self._schedstat, 100, 0).split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return None

    def _close_schedstat(self) -> None:
        if self._schedstat is not None:
            os.close(self._schedstat)
            self._schedstat = None

    def gap_after(self, beat: float) -> float | None:
        """The long gap that followed the beat at `beat` (a perf_counter value of `last`)."""
        return self._long_by_start.get(beat)

    def stop(self, stolen: Stolen | None = None) -> HeartbeatFigures:
        """The run's figures; `stolen(start, end)` tells the seconds the host surely held a
        CPU within a gap (StealTrace.stolen_within), which the longest gap is also given
        without: the window's figure, not the host's."""
        self.timer.stop()
        self._beat()  # the gap up to now counts too
        self._close_schedstat()
        ordered = sorted(self._gaps)
        gaps = [
            _with_host(gap, stolen(gap[1] - gap[0], gap[1]) if stolen else None, self.origin)
            for gap in self._long
        ]
        longest = sorted(gaps, key=lambda g: g.gap_ms, reverse=True)[:LONG_GAPS_KEPT]
        short = [g for g in ordered if g < LONG_GAP_S]
        return HeartbeatFigures(
            beats=len(ordered),
            p50_ms=_ms(percentile(ordered, 0.50) or 0.0),
            p99_ms=_ms(percentile(ordered, 0.99) or 0.0),
            max_ms=_ms(ordered[-1]),
            late_beats=len(self._long),
            late_cpu_share=_share(self._long),
            busiest_cpu_ms=_ms(max((gap[2] for gap in self._long), default=0.0)),
            long_gaps=tuple(longest),
            max_own_ms=max([_ms(short[-1]) if short else 0.0] + [g.own_ms for g in gaps]),
        )


def _with_host(
    gap: tuple[float, float, float, float | None, str], host_s: float | None, origin: float
) -> LongGap:
    """One late beat as reported, `own_ms` its length less the host's steal in it: never less
    than the GUI thread's own CPU time in it, which no host took."""
    length, at, cpu, cpu_wait, phase = gap
    own = length if host_s is None else max(cpu, length - host_s)
    return LongGap(
        _ms(length),
        _ms(at - origin),
        _ms(cpu),
        None if cpu_wait is None else _ms(cpu_wait),
        phase,
        None if host_s is None else _ms(min(host_s, length)),
        _ms(own),
    )


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _share(gaps: list[tuple[float, float, float, float | None, str]]) -> float | None:
    """The GUI thread's CPU time over the time of all late beats: near 1, it was busy."""
    total = sum(gap[0] for gap in gaps)
    return round(sum(gap[2] for gap in gaps) / total, 3) if total else None


class PaintProbe(QObject):
    """Watches the grid viewport's Paint events: when the first and when all visible rows of the
    target inspection had their thumbnail (or failure tile) in the model as a paint began.

    "Painted" is the start of that paint event; what the paint itself costs is in the
    heartbeat. The rows are those of the pane's `visible_rows()` with a cell in the viewport.
    """

    def __init__(self, window: MainWindow, heartbeat: Heartbeat) -> None:
        super().__init__(window)
        self.window = window
        self.heartbeat = heartbeat
        self.viewport = window.grid.viewport()
        self.viewport.installEventFilter(self)
        # However the rows arrive (all at once, or streamed in chunks), the first ones do here.
        window.media.modelReset.connect(self._on_rows)
        window.media.rowsInserted.connect(self._on_rows)
        self._target: frozenset[int] | None = None  # the media ids of the awaited inspection
        self.t0 = 0.0
        self.rows_at: float | None = None
        self.all_rows_at: float | None = None
        self.first_at: float | None = None
        self.all_at: float | None = None
        self.all_visible: asyncio.Future[None] | None = None
        self.all_rows: asyncio.Future[None] | None = None
        self._step_t0: float | None = None
        self._step_all: float | None = None

    def arm(self, media_ids: frozenset[int], t0: float) -> asyncio.Future[None]:
        """From now on: is the grid showing the thumbnails of these photos? The future is
        done when the visible ones are all painted; `all_rows` when every photo is in the grid
        (rows may arrive in chunks while the load streams)."""
        self._target = media_ids
        self.t0 = t0
        self.rows_at = self.all_rows_at = self.first_at = self.all_at = None
        self._step_t0 = self._step_all = None
        loop = asyncio.get_running_loop()
        self.all_visible, self.all_rows = loop.create_future(), loop.create_future()
        self.heartbeat.phase = "load"
        return self.all_visible

    def disarm(self) -> None:
        self._target = None
        self.all_visible = self.all_rows = None

    @property
    def has_all_rows(self) -> bool:
        return self.all_rows_at is not None

    def begin_step(self, t0: float) -> None:
        """A scroll step: from now, when are the newly visible rows all painted?"""
        self._step_t0, self._step_all = t0, None

    def end_step(self) -> float | None:
        """Seconds from the step to all its visible rows painted, or None if not by now."""
        if self._step_t0 is None or self._step_all is None:
            return None
        return self._step_all - self._step_t0

    def _showing_target(self, rows: list[int]) -> bool:
        """The rows are the target's photos (not the last inspection's, still on screen)."""
        target, model = self._target, self.window.media
        if target is None:
            return False
        return all((item := model.item(row)) is not None and item.id in target for row in rows)

    def _on_rows(self, *_args: object) -> None:
        if self._target is None or not self._showing_target([0]):
            return
        now = time.perf_counter()
        if self.rows_at is None:
            self.rows_at = now
            self.heartbeat.phase = "first view"
        if self.all_rows_at is None and self.window.media.rowCount() == len(self._target):
            self.all_rows_at = now
            if self.all_rows is not None and not self.all_rows.done():
                self.all_rows.set_result(None)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Paint
            and watched is self.viewport
            and self._target is not None
        ):
            self._on_paint(time.perf_counter())
        return False

    def _on_paint(self, now: float) -> None:
        rows = self.visible_rows()
        if not rows or not self._showing_target(rows):
            return
        model = self.window.media
        shown = [model.has_image(row) for row in rows]
        if any(shown) and self.first_at is None:
            self.first_at = now
        if not all(shown):
            return
        if self.all_at is None:
            self.all_at = now
            if self.all_visible is not None and not self.all_visible.done():
                self.all_visible.set_result(None)
        if self._step_t0 is not None and self._step_all is None:
            self._step_all = now

    def visible_rows(self) -> list[int]:
        """The rows with a cell in the viewport, partly visible ones too.

        The pane's `visible_rows()` may reach a row or two past the bottom edge (it estimates
        when the corner falls between cells): a thumbnail arriving there is never painted, so
        waiting for it would wait for the next scroll. Each of its rows is checked here.
        """
        span = self.window.media_pane.visible_rows()
        if span is None:
            return []
        grid, model = self.window.grid, self.window.media
        area = self.viewport.rect()
        return [
            row
            for row in range(span[0], span[1] + 1)
            if grid.visualRect(model.index(row)).intersects(area)
        ]

    def since_selection_ms(self, at: float | None) -> float | None:
        return None if at is None else _ms(at - self.t0)


class MemoryProbe(QObject):
    """Peak resident memory of this process during a run.

    On Linux the kernel's own high-water mark (VmHWM) is reset at the start (clear_refs 5), so
    the peak is exact and belongs to this run; elsewhere RSS is sampled every 20 ms. Before the
    start, memory that earlier work freed is handed back (malloc_trim), so it is not counted.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process = psutil.Process()
        self.timer = QTimer(self)
        self.timer.setInterval(MEMORY_SAMPLE_MS)
        self.timer.timeout.connect(self._sample)
        self._start = self._sampled_peak = 0
        self._kernel = False

    def start(self) -> None:
        _trim_heap()
        self._kernel = _reset_high_water_mark()
        self._start = self._sampled_peak = self.process.memory_info().rss
        self.timer.start()

    def _sample(self) -> None:
        self._sampled_peak = max(self._sampled_peak, self.process.memory_info().rss)

    def stop(self) -> MemoryFigures:
        self.timer.stop()
        self._sample()
        end = self.process.memory_info().rss
        kernel_peak = _high_water_mark() if self._kernel else None
        peak = max(kernel_peak or 0, self._sampled_peak)
        return MemoryFigures(
            start_mb=round(self._start / MIB, 1),
            peak_mb=round(peak / MIB, 1),
            end_mb=round(end / MIB, 1),
            sampled_peak_mb=round(self._sampled_peak / MIB, 1),
            peak_source="VmHWM" if kernel_peak is not None else "sampled",
        )


def _trim_heap() -> None:
    name = ctypes.util.find_library("c")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name).malloc_trim(0)


def _reset_high_water_mark() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _high_water_mark() is not None


def _high_water_mark() -> int | None:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


class LoadRecorder:
    """The presenter's own statement accounting (QueryMetrics) for the loads of one run."""

    def __init__(self, metrics: QueryMetrics) -> None:
        self.metrics = metrics
        self._records: list[ActionRecord] = []
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        self._records = []
        self._unsubscribe = self.metrics.subscribe(self._records.append)

    def stop(self) -> LoadFigures:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        media = [r for r in self._records if r.kind == "load_media"]
        done = [r for r in media if r.ok]
        cancelled = [r for r in media if not r.ok and r.error is None]
        return LoadFigures(
            media_loads=len(done),
            statements=tuple(r.statement_count for r in done),
            strategies=tuple(r.strategy or "batch" for r in done),
            load_ms=tuple(_ms(r.seconds) for r in done),
            cancelled=len(cancelled),
            failed=len(media) - len(done) - len(cancelled),
            checklist_loads=sum(1 for r in self._records if r.kind == "load_checklist"),
        )
