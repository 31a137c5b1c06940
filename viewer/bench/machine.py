"""What the machine was doing while a benchmark ran: its load, and the CPU time the host took.

On a virtual machine the hypervisor can give a guest's CPU to others ("steal"): the same work
then takes longer on the wall clock and the figures of two runs are not comparable. Linux
counts it in /proc/stat; a benchmark prints the share it saw next to its figures.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC_STAT = Path("/proc/stat")


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
