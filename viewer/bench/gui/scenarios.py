"""The scenarios: open an inspection cold, then warm, and scroll it; rapid selections.

Every scenario run starts its probes just before the selection and stops them when it ends.
Cold: a new window session (memory and disk thumbnail caches empty, the loader's results
empty). Warm: the same session after the cold run and a step away to a small inspection, so
the thumbnail caches hold what the cold run left (memory: as much as its cap allows; disk:
every thumbnail the cold run decoded); the media are loaded from the database again, one
statement, as the loader's recent-results cache is cleared: what is warm is the thumbnails.
Either way the photo files are in the OS page cache (they were just written): cold is about
the app's caches, not the disk.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from viewer.bench.gui.dataset import GuiDataset, Shown
from viewer.bench.gui.drivers import ScrollDriver, SelectionDriver
from viewer.bench.gui.harness import Session, open_session
from viewer.bench.gui.results import (
    DEMO_COLD,
    DEMO_WARM,
    LARGE_COLD,
    LARGE_WARM,
    SELECTIONS,
    GuiConfig,
    RunResult,
    ScrollFigures,
    StallSample,
)
from viewer.bench.machine import StealMeter, StealTrace, load_average

Say = Callable[[str], None]
THUMBNAIL_COUNTERS = (
    "requests",
    "memory_hits",
    "disk_hits",
    "decodes",
    "coalesced",
    "cancelled",
    "stale_results",
)


def titles(dataset: GuiDataset, config: GuiConfig) -> dict[str, str]:
    demo, large = dataset.demo_large, dataset.generated
    return {
        DEMO_COLD: f"{demo.photos:,} photos ({demo.reference}), cold caches, then scrolled",
        DEMO_WARM: f"{demo.photos:,} photos ({demo.reference}), warm caches, then scrolled",
        LARGE_COLD: f"{large.photos:,} photos (generated), cold caches, then scrolled",
        LARGE_WARM: f"{large.photos:,} photos (generated), warm caches, then scrolled",
        SELECTIONS: f"{config.selections} selections {config.selection_interval_ms} ms apart, "
        f"ending on the {large.photos:,}-photo one",
    }


async def run_all(dataset: GuiDataset, config: GuiConfig, say: Say) -> list[RunResult]:
    """Every chosen scenario, `config.repeat` times, interleaved run by run."""
    runs: list[RunResult] = []
    for run in range(1, config.repeat + 1):
        if "demo" in config.groups:
            keys = (DEMO_COLD, DEMO_WARM)
            runs += await cold_then_warm(dataset, dataset.demo_large, keys, run, config, say)
        if "large" in config.groups:
            keys = (LARGE_COLD, LARGE_WARM)
            runs += await cold_then_warm(dataset, dataset.generated, keys, run, config, say)
        if "selections" in config.groups:
            runs.append(await rapid_selections(dataset, run, config, say))
    return runs


async def cold_then_warm(
    dataset: GuiDataset,
    shown: Shown,
    keys: tuple[str, str],
    run: int,
    config: GuiConfig,
    say: Say,
) -> list[RunResult]:
    async with open_session(dataset, config, start_on=dataset.small.id) as session:
        cold = await open_and_scroll(session, dataset, shown, keys[0], run, config)
        say(summary_line(cold))
        small = dataset.small.id
        await session.show(small, dataset.media_ids[small], config.timeout_s)
        warm = await open_and_scroll(session, dataset, shown, keys[1], run, config)
        say(summary_line(warm))
    return [cold, warm]


async def open_and_scroll(
    session: Session,
    dataset: GuiDataset,
    shown: Shown,
    scenario: str,
    run: int,
    config: GuiConfig,
) -> RunResult:
    row = session.row_of(shown.id)
    await session.settle(config.timeout_s)  # the last load, the last run's disk writes
    session.forget_loaded(shown.id)
    measure = Measurement(session)
    t0 = measure.start()
    all_visible = session.probes.paint.arm(dataset.media_ids[shown.id], t0)
    session.window.select_inspection_row(row)
    notes = []
    if not await _within(all_visible, config.timeout_s):
        notes.append(f"not every visible thumbnail was painted within {config.timeout_s:g} s")
    scroll = None
    if config.scroll_viewports != 0:
        scroll = await _scroll(session, config)
    await _all_rows(session, config, notes)
    return measure.finish(scenario, run, shown, scroll, notes)


async def _all_rows(session: Session, config: GuiConfig, notes: list[str]) -> None:
    """A run ends once the load is complete: every photo in the grid."""
    rows = session.probes.paint.all_rows
    if rows is not None and not await _within(rows, config.timeout_s):
        notes.append(f"not every photo was in the grid within {config.timeout_s:g} s")


async def _scroll(session: Session, config: GuiConfig) -> ScrollFigures:
    driver = ScrollDriver(
        session.window.grid,
        session.probes.paint,
        config.scroll_ms,
        config.scroll_viewports,
        patience_s=config.timeout_s,
    )
    try:
        return await driver.run()
    finally:
        driver.cancel()
        driver.deleteLater()


async def rapid_selections(dataset: GuiDataset, run: int, config: GuiConfig, say: Say) -> RunResult:
    target = dataset.generated
    async with open_session(dataset, config, start_on=dataset.small.id) as session:
        await session.settle(config.timeout_s)
        session.forget_loaded()
        rows = _selection_rows(session, target, config.selections)
        measure = Measurement(session)
        measure.start()
        session.probes.heartbeat.phase = "selections"
        armed: asyncio.Future[asyncio.Future[None]] = asyncio.get_running_loop().create_future()

        def on_last(at: float) -> None:
            armed.set_result(session.probes.paint.arm(dataset.media_ids[target.id], at))

        driver = SelectionDriver(
            session.window.select_inspection_row,
            rows,
            config.selection_interval_ms,
            on_last,
            session.window,
        )
        driver.run()
        notes = []
        try:
            burst_s = config.selections * config.selection_interval_ms / 1000
            all_visible = await asyncio.wait_for(armed, burst_s + config.timeout_s)
            if not await _within(all_visible, config.timeout_s):
                notes.append(f"not every visible thumbnail painted within {config.timeout_s:g} s")
            await _all_rows(session, config, notes)
        finally:
            driver.cancel()
            driver.deleteLater()
        result = measure.finish(SELECTIONS, run, target, None, notes)
    say(summary_line(result))
    return result


def _selection_rows(session: Session, target: Shown, count: int) -> list[int]:
    """`count - 1` rows from the top of the list (not the one selected now), then the target."""
    current = session.selected_id()
    model = session.window.inspections
    others = []
    for row in range(model.rowCount()):
        record = model.record(row)
        if record is not None and record.id not in (target.id, current):
            others.append(row)
    return [*others[: count - 1], session.row_of(target.id)]


async def _within(future: asyncio.Future[None], timeout_s: float) -> bool:
    try:
        await asyncio.wait_for(asyncio.shield(future), timeout_s)
    except TimeoutError:
        return False
    return True


class Measurement:
    """One scenario run's probes, started together and read together."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.load_average = (0.0, 0.0, 0.0)
        self.steal = StealMeter()
        self.steal_trace = StealTrace()
        self.counters: dict[str, int] = {}

    def start(self) -> float:
        probes = self.session.probes
        self.load_average = load_average()
        self.steal.start()
        self.steal_trace.start()
        self.counters = _thumbnail_counters(self.session)
        probes.memory.start()
        probes.loads.start()
        t0 = time.perf_counter()
        probes.heartbeat.start(t0)
        if probes.stalls is not None:
            probes.stalls.start()
        return t0

    def finish(
        self,
        scenario: str,
        run: int,
        shown: Shown,
        scroll: ScrollFigures | None,
        notes: list[str],
    ) -> RunResult:
        probes = self.session.probes
        heartbeat = probes.heartbeat.stop(self.steal_trace.stolen_within)
        self.steal_trace.stop()
        stalls: tuple[StallSample, ...] = ()
        if probes.stalls is not None:
            probes.stalls.stop()
            stalls = probes.stalls.samples()
        paint = probes.paint
        paint.disarm()
        after = _thumbnail_counters(self.session)
        return RunResult(
            scenario=scenario,
            run=run,
            inspection=shown.reference,
            photos=shown.photos,
            load_average=self.load_average,
            cpu_steal_pct=self.steal.percent(),
            heartbeat=heartbeat,
            first_rows_ms=paint.since_selection_ms(paint.rows_at),
            all_rows_ms=paint.since_selection_ms(paint.all_rows_at),
            first_visible_ms=paint.since_selection_ms(paint.first_at),
            all_visible_ms=paint.since_selection_ms(paint.all_at),
            loads=probes.loads.stop(),
            scroll=scroll,
            memory=probes.memory.stop(),
            thumbnails={k: after[k] - self.counters.get(k, 0) for k in after},
            stalls=stalls,
            notes=tuple(notes),
        )


def _thumbnail_counters(session: Session) -> dict[str, int]:
    stats = session.thumbnails.stats()
    values = {name: getattr(stats, name, None) for name in THUMBNAIL_COUNTERS}
    counters = {name: value for name, value in values.items() if isinstance(value, int)}
    errors = getattr(stats, "errors", {})
    counters["errors"] = sum(errors.values()) if hasattr(errors, "values") else 0
    return counters


def summary_line(r: RunResult) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:,.0f} ms"

    hb = r.heartbeat
    text = (
        f"{r.scenario} run {r.run}: longest gap {hb.max_ms:,.0f} ms"
        + (f" ({hb.max_own_ms:,.0f} ms without the host's)" if hb.max_own_ms < hb.max_ms else "")
        + f", p99 {hb.p99_ms:.1f} ms; "
        f"first thumbnail {ms(r.first_visible_ms)}, all visible {ms(r.all_visible_ms)}; "
        f"statements {list(r.loads.statements)}; peak RSS {r.memory.peak_mb:,.0f} MB; "
        f"load average {r.load_average[0]:.2f}"
        + ("" if r.cpu_steal_pct is None else f", CPU taken by the host {r.cpu_steal_pct:.0f}%")
    )
    return text + "".join(f" ({note})" for note in r.notes)
