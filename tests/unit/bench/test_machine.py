"""The benchmarks' machine figures: the CPU share the host took, from /proc/stat's counters."""

from __future__ import annotations

from pathlib import Path

from viewer.bench.machine import StealMeter, cpu_ticks

LINE = "cpu  {user} 10 20 {idle} 5 0 3 {steal} 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n"


def write(path: Path, user: int, idle: int, steal: int) -> None:
    path.write_text(LINE.format(user=user, idle=idle, steal=steal))


def test_the_share_of_ticks_stolen_between_start_and_end(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    write(stat, user=100, idle=800, steal=50)
    meter = StealMeter(stat)
    write(stat, user=400, idle=1000, steal=350)  # +300 user, +200 idle, +300 steal
    assert meter.percent() == 37.5


def test_no_figure_where_the_system_gives_none(tmp_path: Path) -> None:
    assert cpu_ticks(tmp_path / "absent") is None
    garbage = tmp_path / "stat"
    garbage.write_text("cpu  one two three\n")
    assert cpu_ticks(garbage) is None
    assert StealMeter(garbage).percent() is None
    stat = tmp_path / "same"
    write(stat, user=1, idle=1, steal=0)
    assert StealMeter(stat).percent() is None  # no time passed: no share
