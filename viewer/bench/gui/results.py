"""What a GUI benchmark run is asked to do and what each scenario run found: frozen records."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import statistics
from dataclasses import dataclass, field
from typing import Any

from db.config import mask_url, parse_database_url
from viewer.bench.gui import options as opt
from viewer.bench.results import TargetResult

JSON_SCHEMA = "inspection-viewer-bench-gui/1"
PROG = "inspection-viewer"

# Scenario keys, in the order they run and are reported.
DEMO_COLD, DEMO_WARM = "demo_cold", "demo_warm"
LARGE_COLD, LARGE_WARM = "large_cold", "large_warm"
SELECTIONS = "selections"
SCENARIOS = (DEMO_COLD, DEMO_WARM, LARGE_COLD, LARGE_WARM, SELECTIONS)
COLD = (DEMO_COLD, LARGE_COLD)
WARM = (DEMO_WARM, LARGE_WARM)


@dataclass(frozen=True, slots=True)
class GuiTargets:
    max_gap_ms: float = 50.0
    p99_gap_ms: float = 20.0
    first_cold_ms: float = 150.0
    first_warm_ms: float = 30.0
    rss_mb: float = 400.0
    statements_per_load: int = 1


@dataclass(frozen=True, slots=True)
class GuiConfig:
    repeat: int = opt.DEFAULT_REPEAT
    items: int = opt.DEFAULT_ITEMS
    media_per_item: int = opt.DEFAULT_MEDIA_PER_ITEM
    scroll_ms: int = opt.DEFAULT_SCROLL_MS
    scroll_viewports: int | None = None  # None: to the bottom
    selections: int = opt.DEFAULT_SELECTIONS
    selection_interval_ms: int = opt.DEFAULT_SELECTION_INTERVAL_MS
    cache_mb: int = opt.DEFAULT_CACHE_MB
    workers: int | None = None
    groups: tuple[str, ...] = opt.GROUPS
    stall_stacks: bool = False
    timeout_s: float = opt.DEFAULT_TIMEOUT_S
    quick: bool = False
    targets: GuiTargets = field(default_factory=GuiTargets)


@dataclass(frozen=True, slots=True)
class LongGap:
    gap_ms: float
    at_ms: float  # when the late beat came, from the scenario's selection
    cpu_ms: float  # the GUI thread's CPU time during the gap (much less: it was waiting)
    # Of the rest, the time it was runnable but other threads or processes had the CPUs
    # (Linux schedstat; None elsewhere); what remains it was blocked: the GIL, a lock, I/O.
    cpu_wait_ms: float | None
    phase: str  # load | first view | scroll | selections | settle
    # Of the gap, what the host surely held one of the CPUs for (per-CPU steal, sampled every
    # 5 ms; None where the kernel does not say): a vCPU the host took freezes the thread on it.
    host_ms: float | None = None
    own_ms: float = 0.0  # the gap less host_ms, and never less than cpu_ms


@dataclass(frozen=True, slots=True)
class HeartbeatFigures:
    beats: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    late_beats: int  # gaps of 16 ms or more: a frame missed
    late_cpu_share: float | None  # GUI-thread CPU time / time, over those gaps
    # The most GUI-thread CPU time in one gap: the window's own longest stretch of work, which
    # the machine's load barely changes (the gap itself also holds the time it waited).
    busiest_cpu_ms: float
    long_gaps: tuple[LongGap, ...]  # the longest, longest first
    # The longest gap with the host's steal in it taken out (LongGap.own_ms); max_ms where
    # the host took nothing. The target is on this one: the window's, not the host's.
    max_own_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class LoadFigures:
    media_loads: int  # completed load_media actions (the batch load, or its fallback)
    statements: tuple[int, ...]  # statements of each completed media load
    strategies: tuple[str, ...]
    load_ms: tuple[float, ...]
    cancelled: int  # media loads cancelled by a newer selection
    failed: int
    checklist_loads: int


@dataclass(frozen=True, slots=True)
class ScrollFigures:
    viewports: int
    seconds: float
    complete: int  # viewports whose visible thumbnails were all painted before the next step
    complete_p50_ms: float | None  # step to all visible painted, over the complete ones


@dataclass(frozen=True, slots=True)
class MemoryFigures:
    start_mb: float
    peak_mb: float  # the kernel's high-water mark since the start (sampled where there is none)
    end_mb: float
    sampled_peak_mb: float
    peak_source: str  # "VmHWM" | "sampled"


@dataclass(frozen=True, slots=True)
class StallSample:
    gap_ms: float
    phase: str
    where: str  # the innermost frame of our code, or "Qt (no Python frame)"
    stack: tuple[str, ...]  # innermost last


@dataclass(frozen=True, slots=True)
class RunResult:
    scenario: str
    run: int
    inspection: str
    photos: int
    load_average: tuple[float, float, float]
    heartbeat: HeartbeatFigures
    first_rows_ms: float | None  # selection to its first photos in the grid (placeholders)
    all_rows_ms: float | None  # selection to all of its photos in the grid (the load done)
    first_visible_ms: float | None  # selection to the first visible thumbnail painted
    all_visible_ms: float | None  # selection to every visible thumbnail painted
    loads: LoadFigures
    scroll: ScrollFigures | None
    memory: MemoryFigures
    thumbnails: dict[str, int]  # the service's counters during the run
    stalls: tuple[StallSample, ...] = ()
    notes: tuple[str, ...] = ()
    cpu_steal_pct: float | None = None  # of the machine's CPU time, taken by the host


@dataclass(frozen=True, slots=True)
class GuiReport:
    command: str
    started_at: str
    seconds: float
    machine: dict[str, Any]
    database: dict[str, Any]
    dataset: dict[str, Any]
    config: GuiConfig
    scenarios: dict[str, str]  # key -> title
    runs: tuple[RunResult, ...]
    targets: tuple[TargetResult, ...] = ()

    @property
    def passed(self) -> bool:
        return all(t.status != "fail" for t in self.targets)

    def runs_of(self, scenario: str) -> list[RunResult]:
        return [r for r in self.runs if r.scenario == scenario]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def to_json(report: GuiReport) -> dict[str, Any]:
    data = dataclasses.asdict(report)
    data["schema"] = JSON_SCHEMA
    data["passed"] = report.passed
    return data


def config_from_args(args: argparse.Namespace) -> GuiConfig:
    viewports = args.scroll_viewports
    if viewports is None and args.quick:
        viewports = opt.QUICK_SCROLL_VIEWPORTS
    return GuiConfig(
        repeat=args.repeat or (opt.QUICK_REPEAT if args.quick else opt.DEFAULT_REPEAT),
        items=args.items or (opt.QUICK_ITEMS if args.quick else opt.DEFAULT_ITEMS),
        media_per_item=args.media_per_item,
        scroll_ms=args.scroll_ms,
        scroll_viewports=viewports,
        selections=args.selections,
        selection_interval_ms=args.selection_interval_ms,
        cache_mb=args.cache_mb,
        workers=args.workers,
        groups=args.only,
        stall_stacks=args.stall_stacks,
        timeout_s=args.timeout_s,
        quick=args.quick,
        targets=GuiTargets(
            max_gap_ms=args.target_max_gap_ms,
            p99_gap_ms=args.target_p99_gap_ms,
            first_cold_ms=args.target_first_cold_ms,
            first_warm_ms=args.target_first_warm_ms,
            rss_mb=args.target_rss_mb,
        ),
    )


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run (passwords masked); output options left out."""
    parts = [PROG]
    if getattr(args, "database_url", None):
        parts += ["--database-url", mask_url(parse_database_url(args.database_url))]
    parts += ["bench", "gui"]
    if args.quick:
        parts.append("--quick")
    if tuple(args.only) != opt.GROUPS:
        parts += ["--only", ",".join(args.only)]
    for name in ("repeat", "items", "scroll_viewports", "workers"):
        if getattr(args, name) is not None:
            parts += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    defaults = {
        "media_per_item": opt.DEFAULT_MEDIA_PER_ITEM,
        "scroll_ms": opt.DEFAULT_SCROLL_MS,
        "selections": opt.DEFAULT_SELECTIONS,
        "selection_interval_ms": opt.DEFAULT_SELECTION_INTERVAL_MS,
        "cache_mb": opt.DEFAULT_CACHE_MB,
    }
    for name, default in defaults.items():
        if getattr(args, name) != default:
            parts += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    if args.stall_stacks:
        parts.append("--stall-stacks")
    return shlex.join(parts)
