"""Runs the benchmark: strategies interleaved round by round per RTT, concurrency, thumbnails."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import psycopg
import sqlalchemy
from sqlalchemy.engine import URL

from db.config import libpq_url, mask_url
from db.engine import CONNECT_TIMEOUT_S, POOL_MAX_OVERFLOW, POOL_SIZE, make_async_engine
from db.loader import MediaBatchLoader, MediaLoadError
from db.metrics import QueryMetrics
from viewer.bench.dataset import Dataset, scratch_dataset
from viewer.bench.proxy import DelayProxy, upstream_for, url_via_proxy
from viewer.bench.results import (
    BenchConfig,
    BenchReport,
    ConcurrencyResult,
    RttResult,
    StrategyResult,
    ThumbnailsResult,
)
from viewer.bench.stats import summarize
from viewer.bench.strategies import (
    APPLICATION_NAME,
    BASELINE,
    FLOOR,
    BenchError,
    Connections,
    Strategy,
    make_strategies,
)
from viewer.bench.targets import evaluate

ProgressCallback = Callable[[str, int, int], None]

RTT_PROBES = 25


@dataclass
class _Samples:
    seconds: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)


def _no_progress(label: str, done: int, total: int) -> None:
    pass


def run_benchmark(
    server_url: URL,
    config: BenchConfig,
    *,
    command: str,
    embedded: bool,
    progress: ProgressCallback | None = None,
) -> BenchReport:
    """The whole benchmark against the server of `server_url`, in a scratch database.

    Blocking. Call it on the main thread: the thumbnail part needs Qt's GUI thread.
    """
    report = progress or _no_progress
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    machine = machine_info()
    with scratch_dataset(
        server_url, config.dataset, with_files=config.thumbnails, progress=report
    ) as dataset:
        server_version = _server_version(dataset.url)
        rtts = asyncio.run(_measure_all(dataset, config, report))
        server_side = _server_side(dataset)
        thumbnails = _thumbnails(dataset, config, report)
    machine["load_average_at_end"] = _load_average()
    result = BenchReport(
        command=command,
        started_at=started_at,
        seconds=time.perf_counter() - started,
        machine=machine,
        database={
            "server": f"PostgreSQL {server_version}",
            "connection": "embedded server, Unix socket" if embedded else "given by URL",
            "url": mask_url(server_url),
            "scratch_database": dataset.database,
            **server_side,
        },
        dataset=_dataset_info(dataset),
        config=config,
        rtts=rtts,
        thumbnails=thumbnails,
    )
    return dataclasses.replace(result, targets=evaluate(result))


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count() or 0,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "psycopg": psycopg.__version__,
        "libpq": _libpq_version(),
        # Other work on the machine slows every strategy; these say how busy it was.
        "load_average_at_start": _load_average(),
    }


def _load_average() -> list[float]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return [round(v, 2) for v in load]


def _libpq_version() -> str:
    version = psycopg.pq.version()
    return f"{version // 10000}.{version % 10000}"


def _server_version(url: URL) -> str:
    with psycopg.connect(libpq_url(url), connect_timeout=CONNECT_TIMEOUT_S) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def _server_side(dataset: Dataset) -> dict[str, Any]:
    """What the server spends on the first measured inspection: the batch function's own
    duration (it logs every call) and the size of the rows it returns."""
    inspection_id = dataset.measured[0].id
    with psycopg.connect(libpq_url(dataset.url), connect_timeout=CONNECT_TIMEOUT_S) as conn:
        timing = conn.execute(
            "SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms)"
            "  FROM query_performance_log"
            " WHERE function_name = 'get_inspection_media_batch' AND inspection_id = %s",
            (inspection_id,),
        ).fetchone()
        size = conn.execute(
            "SELECT sum(pg_column_size(t.*)) FROM get_inspection_media_batch(%s) AS t",
            (inspection_id,),
        ).fetchone()
    return {
        "batch_function_calls": int(timing[0]) if timing else 0,
        "batch_function_p50_ms": round(float(timing[1]), 4) if timing and timing[1] else None,
        "batch_result_bytes": int(size[0]) if size and size[0] else None,
    }


def _dataset_info(dataset: Dataset) -> dict[str, Any]:
    return {
        "kind": dataset.spec.kind,
        "description": dataset.spec.describe(),
        "inspections": dataset.inspections,
        "checklist_items": dataset.checklist_items,
        "media_rows": dataset.media_rows,
        "measured_inspections": [
            {"id": m.id, "reference": m.reference, "items": m.items, "media": m.media}
            for m in dataset.measured
        ],
        "photo_files": len(dataset.photo_files),
    }


# --- database strategies -----------------------------------------------------------------------


async def _measure_all(
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
            concurrency = await _concurrent_loads(url, dataset, config, rng, rtt_ms, progress)
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


# --- concurrent loads --------------------------------------------------------------------------


async def _concurrent_loads(
    url: URL,
    dataset: Dataset,
    config: BenchConfig,
    rng: random.Random,
    rtt_ms: float,
    progress: ProgressCallback,
) -> ConcurrencyResult:
    """Bursts of `concurrency` loads started at once on one engine (the app's pool), each by a
    loader of its own (think: app windows), over a shuffled mix of the dataset's inspections.

    One loader per load: a loader shares in-flight loads of one inspection, which would turn
    concurrent loads of the same inspection into one query.
    """
    label = f"RTT {rtt_ms:g} ms: {config.bursts} x {config.concurrency} concurrent loads"
    engine = make_async_engine(url, application_name=APPLICATION_NAME)
    metrics = QueryMetrics()
    metrics.instrument(engine.sync_engine)
    loaders = [MediaBatchLoader(engine, metrics) for _ in range(config.concurrency)]
    ids = list(dataset.all_ids)
    stats = _LoadStats()
    try:
        # Unmeasured first burst: connections opened, statements prepared, caches warm.
        await _burst(loaders, [ids[i % len(ids)] for i in range(len(loaders))], _LoadStats())
        progress(label, 0, config.bursts)
        for burst in range(config.bursts):
            plan = [ids[i % len(ids)] for i in range(len(loaders))]
            rng.shuffle(plan)
            started = time.perf_counter()
            await _burst(loaders, plan, stats)
            stats.seconds += time.perf_counter() - started
            stats.inspections.update(plan)
            progress(label, burst + 1, config.bursts)
    finally:
        await engine.dispose()
    loads = config.bursts * len(loaders)
    return ConcurrencyResult(
        concurrency=config.concurrency,
        loads=loads,
        ok=len(stats.latencies),
        errors=len(stats.errors),
        retries=stats.retries,
        statements_max=max(stats.statements, default=0),
        seconds=stats.seconds,
        loads_per_second=len(stats.latencies) / stats.seconds,
        rows_per_second=stats.rows / stats.seconds,
        latency=summarize(stats.latencies) if stats.latencies else None,
        pool_size=POOL_SIZE,
        pool_max_overflow=POOL_MAX_OVERFLOW,
        inspections=len(stats.inspections),
        error_messages=tuple(sorted(set(stats.errors)))[:5],
    )


@dataclass
class _LoadStats:
    latencies: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    inspections: set[int] = field(default_factory=set)
    retries: int = 0
    rows: int = 0
    seconds: float = 0.0


async def _burst(
    loaders: Sequence[MediaBatchLoader], plan: Sequence[int], stats: _LoadStats
) -> None:
    async def one(loader: MediaBatchLoader, inspection_id: int) -> None:
        started = time.perf_counter()
        try:
            result = await loader.load_media(inspection_id, refresh=True)
        except MediaLoadError as exc:
            stats.errors.append(str(exc))
        else:
            stats.latencies.append(time.perf_counter() - started)
            stats.statements.append(result.statements)
            stats.retries += result.retries
            stats.rows += result.media.count

    await asyncio.gather(*(one(loader, i) for loader, i in zip(loaders, plan, strict=True)))


# --- thumbnails --------------------------------------------------------------------------------


def _thumbnails(
    dataset: Dataset, config: BenchConfig, progress: ProgressCallback
) -> ThumbnailsResult:
    if not config.thumbnails:
        return ThumbnailsResult("skipped", "--no-thumbnails")
    if not dataset.photo_files:
        return ThumbnailsResult("skipped", "the dataset has no photo files")
    from viewer.bench.thumbnails import run_thumbnails

    return run_thumbnails(dataset.photo_files, config.thumbnail_threads, progress)
