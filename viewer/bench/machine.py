"""What the machine was doing while a benchmark ran: its load, and the CPU time the host took.

On a virtual machine the hypervisor can give a guest's CPU to others ("steal"): the same work
then takes longer on the wall clock and the figures of two runs are not comparable. Linux
counts it in /proc/stat; a benchmark prints the share it saw next to its figures.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from pathlib import Path

PROC_STAT = Path("/proc/stat")
# /proc/stat counts in USER_HZ ticks, 100 a second on Linux whatever the kernel's HZ.
TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# StealTrace: how often it samples, and how long after a gap the kernel may still be
# accounting the steal in it (it does so on the CPU's next tick, 4 ms at HZ=250).
STEAL_SAMPLE_S = 0.005
STEAL_SETTLE_S = 0.015


def load_average() -> tuple[float, float, float]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return (round(load[0], 2), round(load[1], 2), round(load[2], 2))


def cpu_ticks(stat: Path = PROC_STAT) -> tuple[int, int] | None:
    """(all CPU ticks, stolen ticks) so far; None where the system does not say."""
    try:
        with stat.open() as file:
            fields = file.readline().split()
    except OSError:
        return None
    if len(fields) < 9 or fields[0] != "cpu":
        return None
    try:
        values = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
    except ValueError:
        return None
    return sum(values), values[7]


class StealMeter:
    """The share of CPU time the host took between `start()` and `percent()`."""

    def __init__(self, stat: Path = PROC_STAT) -> None:
        self._stat = stat
        self._start = cpu_ticks(stat)

    def start(self) -> None:
        self._start = cpu_ticks(self._stat)

    def percent(self) -> float | None:
        end = cpu_ticks(self._stat)
        if self._start is None or end is None or end[0] <= self._start[0]:
            return None
        return round(100.0 * (end[1] - self._start[1]) / (end[0] - self._start[0]), 1)


def cpu_steal_ticks(stat: Path = PROC_STAT) -> tuple[int, ...] | None:
    """Each CPU's stolen ticks so far (USER_HZ, 10 ms on Linux); None where not told."""
    try:
        lines = stat.read_text().splitlines()
    except OSError:
        return None
    steal = []
    for line in lines:
        fields = line.split()
        if not fields or not fields[0].startswith("cpu") or fields[0] == "cpu":
            continue
        if len(fields) < 9 or not fields[8].isdigit():
            return None
        steal.append(int(fields[8]))
    return tuple(steal) or None


class StealTrace:
    """Each CPU's stolen ticks, sampled every few milliseconds by a thread of its own while
    started, so a single long gap can be checked for a CPU the host held during it.

    The bench's run-wide share (StealMeter) averages a burst away: the host has held one vCPU
    for 100 ms in one piece while taking 0.2% of a two-minute run. A thread, because the GUI
    thread is the one that stalls; reading /proc/stat costs it about 20 us of the GIL."""

    def __init__(self, stat: Path = PROC_STAT, interval_s: float = STEAL_SAMPLE_S) -> None:
        self._stat = stat
        self._interval_s = interval_s
        self._samples: list[tuple[float, tuple[int, ...]]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if cpu_steal_ticks(self._stat) is None:
            return  # not Linux, or no steal column: every gap keeps its whole length
        self._samples = []
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="bench-steal-trace", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None

    def _run(self) -> None:
        while True:
            ticks = cpu_steal_ticks(self._stat)
            if ticks is not None:
                self.add_sample(time.perf_counter(), ticks)
            if self._stop.wait(self._interval_s):
                return

    def add_sample(self, at: float, ticks: tuple[int, ...]) -> None:
        """One reading of every CPU's counter at `at` (perf_counter), in time order."""
        self._samples.append((at, ticks))

    def stolen_within(self, start: float, end: float) -> float | None:
        """Seconds the host surely held one CPU within [start, end] (perf_counter times): the
        most any one CPU's counter rose from the last sample before `start` to the first one
        `STEAL_SETTLE_S` after `end` (or the last one taken), less one tick (the counters are
        whole ticks) and less the time that window spans beyond [start, end] (the steal may
        have been there). None if there is no sample before and after the gap."""
        samples = list(self._samples)  # the thread may be appending
        i = bisect.bisect_right(samples, start, key=lambda s: s[0])
        j = bisect.bisect_left(samples, end + STEAL_SETTLE_S, key=lambda s: s[0])
        j = min(j, len(samples) - 1)
        if i == 0 or not samples or samples[j][0] < end:
            return None
        (t0, first), (t1, last) = samples[i - 1], samples[j]
        if len(first) != len(last):
            return None
        rise = max(b - a for a, b in zip(first, last, strict=True)) / TICKS_PER_S
        return max(0.0, rise - 1 / TICKS_PER_S - ((t1 - t0) - (end - start)))
