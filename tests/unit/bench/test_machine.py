"""The benchmarks' machine figures: the CPU time the host took, from /proc/stat's counters."""

from __future__ import annotations

from pathlib import Path

from viewer.bench.machine import TICKS_PER_S, StealMeter, StealTrace, cpu_steal_ticks, cpu_ticks

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


def test_each_cpus_stolen_ticks(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text(
        "cpu  1 2 3 4 5 6 7 90 0 0\ncpu0 1 2 3 4 5 6 7 40 0 0\ncpu1 1 2 3 4 5 6 7 50 0 0\n"
        "intr 12 0 0\n"
    )
    assert cpu_steal_ticks(stat) == (40, 50)
    stat.write_text("cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 1 2 3\n")  # a kernel without the column
    assert cpu_steal_ticks(stat) is None
    assert cpu_steal_ticks(tmp_path / "absent") is None


def trace_with_burst(burst: tuple[float, float], cpus: int = 2) -> StealTrace:
    """Samples every 5 ms over 0-1 s; the last CPU stolen in full during `burst` (seconds),
    its counter in whole ticks as the kernel shows it."""
    trace = StealTrace(Path("/nonexistent"))
    start, end = burst
    for i in range(201):
        at = i * 0.005
        stolen = min(max(at - start, 0.0), end - start)
        trace.add_sample(at, (0,) * (cpus - 1) + (int(stolen * TICKS_PER_S),))
    return trace


def test_a_cpu_the_host_held_through_a_gap_is_found_in_it() -> None:
    # The 103 ms gap of 2026-12-04: one vCPU held for 100 ms, the GUI thread frozen on it.
    trace = trace_with_burst((0.300, 0.400))
    stolen = trace.stolen_within(0.299, 0.402)
    assert stolen is not None
    assert 0.060 <= stolen <= 0.100  # never more than happened; whole ticks and 5 ms samples


def test_steal_next_to_a_gap_is_not_counted_in_it() -> None:
    trace = trace_with_burst((0.300, 0.400))
    assert trace.stolen_within(0.420, 0.470) == 0.0  # after the burst
    assert trace.stolen_within(0.100, 0.150) == 0.0  # before it
    assert trace.stolen_within(0.380, 0.440) <= 0.020  # overlapping its last 20 ms


def test_no_figure_without_samples_around_the_gap() -> None:
    trace = trace_with_burst((0.300, 0.400))
    assert trace.stolen_within(-0.5, -0.4) is None  # before the first sample
    assert trace.stolen_within(0.99, 1.5) is None  # after the last one
    assert StealTrace(Path("/nonexistent")).stolen_within(0.0, 1.0) is None


def test_a_burst_between_sparse_samples_is_not_pinned_on_a_gap_it_missed() -> None:
    # The sampling thread can be frozen too: two samples 250 ms apart hold the whole burst.
    trace = StealTrace(Path("/nonexistent"))
    trace.add_sample(0.250, (0, 0))
    trace.add_sample(0.500, (0, 10))  # 100 ms stolen somewhere in between
    assert trace.stolen_within(0.420, 0.470) == 0.0  # a 50 ms gap cannot hold it
    stolen = trace.stolen_within(0.260, 0.490)  # a 230 ms gap may hold 20 ms of it at least
    assert stolen is not None and 0.0 < stolen <= 0.100
