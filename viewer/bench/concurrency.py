"""Concurrent loads: bursts of loads started at once through the app's pool, as windows would."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.engine import URL

from db.engine import POOL_MAX_OVERFLOW, POOL_SIZE, make_async_engine
from db.loader import MediaBatchLoader, MediaLoadError
from db.metrics import QueryMetrics
from db.progress import ProgressCallback
from viewer.bench.dataset import Dataset
from viewer.bench.results import BenchConfig, ConcurrencyResult
from viewer.bench.stats import summarize
from viewer.bench.strategies import APPLICATION_NAME


async def concurrent_loads(
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
