"""Each RTT's race: every strategy warmed up, then timed in rounds of a new random order."""

from __future__ import annotations

import contextlib
import gc
import random
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import psycopg
from sqlalchemy.engine import URL

from db.config import libpq_url
from db.engine import CONNECT_TIMEOUT_S
from db.progress import ProgressCallback
from viewer.bench.concurrency import concurrent_loads
from viewer.bench.dataset import Dataset
from viewer.bench.proxy import DelayProxy, upstream_for, url_via_proxy
from viewer.bench.results import BenchConfig, RttResult, StrategyResult
from viewer.bench.stats import summarize
from viewer.bench.strategies import (
    BASELINE,
    FLOOR,
    BenchError,
    Connections,
    Strategy,
    make_strategies,
)

RTT_PROBES = 25


@dataclass
class _Samples:
    seconds: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)


async def measure_all(
    dataset: Dataset, config: BenchConfig, progress: ProgressCallback
) -> tuple[RttResult, ...]:
    rng = random.Random(config.seed)
    results = []
    for rtt in config.rtt_ms:
        results.append(await _measure_rtt(dataset, rtt, config, rng, progress))
    return tuple(results)


@contextlib.contextmanager
def _path_to_server(url: URL, rtt_ms: float) -> Iterator[tuple[URL, DelayProxy | None]]:
    if rtt_ms <= 0:
        yield url, None
        return
    with DelayProxy(upstream_for(url), rtt_ms) as proxy:
        yield url_via_proxy(url, proxy.port), proxy


async def _measure_rtt(
    dataset: Dataset,
    rtt_ms: float,
    config: BenchConfig,
    rng: random.Random,
    progress: ProgressCallback,
) -> RttResult:
    with _path_to_server(dataset.url, rtt_ms) as (url, proxy):
        measured_rtt = _probe_rtt(url)
        conns = await Connections.open(url)
        try:
            strategies = make_strategies(conns)
            label = f"RTT {rtt_ms:g} ms: warm-up"
            await _check_same_media(strategies, dataset)
            repeats = await _warm_up(strategies, dataset, config, label, progress)
            samples = await _rounds(strategies, repeats, dataset, config, rng, rtt_ms, progress)
        finally:
            await conns.close()
        concurrency = None
        if config.concurrency > 0 and config.bursts > 0:
            concurrency = await concurrent_loads(url, dataset, config, rng, rtt_ms, progress)
    return RttResult(
        rtt_ms=rtt_ms,
        measured_rtt_ms=measured_rtt * 1000,
        via_proxy=proxy is not None,
        strategies=_summaries(strategies, samples, repeats),
        concurrency=concurrency,
        proxy=proxy.stats if proxy else None,
    )


def _probe_rtt(url: URL) -> float:
    """Median time of `SELECT 1` on an open connection: the round trip the loads really pay."""
    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as c:
        times = []
        for _ in range(RTT_PROBES):
            started = time.perf_counter()
            c.execute("SELECT 1").fetchone()
            times.append(time.perf_counter() - started)
    return statistics.median(times)


async def _check_same_media(strategies: Sequence[Strategy], dataset: Dataset) -> None:
    """Every strategy must return the same photos in the same order, or the race is unfair."""
    inspection = dataset.measured[0]
    reference: list[int] | None = None
    for strategy in strategies:
        loaded = await strategy.load(inspection.id)
        ids = strategy.media_ids(loaded.payload)
        if reference is None:
            reference = ids
        if ids != reference or loaded.rows != inspection.media:
            raise BenchError(
                f"{strategy.label} returned {loaded.rows} media of inspection {inspection.id} "
                f"(expected {inspection.media}, in the same order as {strategies[0].label})"
            )


async def _warm_up(
    strategies: Sequence[Strategy],
    dataset: Dataset,
    config: BenchConfig,
    label: str,
    progress: ProgressCallback,
) -> dict[str, int]:
    """Run each strategy until warm; returns how often each runs per round."""
    inspection_id = dataset.measured[0].id
    best: dict[str, float] = {}
    for done, strategy in enumerate(strategies):
        progress(label, done, len(strategies))
        times: list[float] = []
        budget_ends = time.perf_counter() + config.warmup_budget_s
        while not times or (len(times) < config.warmup_runs and time.perf_counter() < budget_ends):
            started = time.perf_counter()
            await strategy.load(inspection_id)
            times.append(time.perf_counter() - started)
        best[strategy.key] = min(times)
    progress(label, len(strategies), len(strategies))
    slowest = max(best.values())
    return {
        key: config.fast_repeat if seconds * config.fast_factor <= slowest else 1
        for key, seconds in best.items()
    }


async def _rounds(
    strategies: Sequence[Strategy],
    repeats: dict[str, int],
    dataset: Dataset,
    config: BenchConfig,
    rng: random.Random,
    rtt_ms: float,
    progress: ProgressCallback,
) -> dict[str, _Samples]:
    label = f"RTT {rtt_ms:g} ms: {config.rounds} rounds"
    per_round = [s for s in strategies for _ in range(repeats[s.key])]
    total = config.rounds * len(per_round)
    samples = {s.key: _Samples() for s in strategies}
    done = 0
    progress(label, done, total)
    with _young_garbage_only():
        for round_index in range(config.rounds):
            inspection = dataset.measured[round_index % len(dataset.measured)]
            order = list(per_round)
            rng.shuffle(order)
            for strategy in order:
                # One strategy's garbage (the ORM's object graphs) must not be collected in
                # the next one's timing; each still pays for the collections it triggers.
                gc.collect()
                started = time.perf_counter()
                loaded = await strategy.load(inspection.id)
                elapsed = time.perf_counter() - started
                sample = samples[strategy.key]
                sample.seconds.append(elapsed)
                sample.statements.append(loaded.statements)
                sample.rows.append(loaded.rows)
                done += 1
                progress(label, done, total)
    return samples


@contextlib.contextmanager
def _young_garbage_only() -> Iterator[None]:
    """Move everything alive now out of the collector's sight, so that a gc.collect() between
    samples costs about a millisecond instead of a walk over every object in the process."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _summaries(
    strategies: Sequence[Strategy], samples: dict[str, _Samples], repeats: dict[str, int]
) -> tuple[StrategyResult, ...]:
    summaries = {key: summarize(s.seconds) for key, s in samples.items()}
    baseline = summaries.get(BASELINE)
    floor = summaries.get(FLOOR)
    results = []
    for strategy in strategies:
        sample = samples[strategy.key]
        summary = summaries[strategy.key]
        rows = statistics.fmean(sample.rows)
        results.append(
            StrategyResult(
                key=strategy.key,
                label=strategy.label,
                description=strategy.description,
                statements_min=min(sample.statements),
                statements_max=max(sample.statements),
                rows_per_load=rows,
                seconds=summary,
                samples_per_round=repeats[strategy.key],
                rows_per_second=sum(sample.rows) / sum(sample.seconds),
                speedup_vs_n_plus_1=baseline.p50 / summary.p50 if baseline else None,
                times_floor=summary.p50 / floor.p50 if floor else None,
                samples=tuple(sample.seconds),
            )
        )
    return tuple(results)
