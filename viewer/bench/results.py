"""What a benchmark run is asked to do and what it found: plain frozen records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from viewer.bench.dataset import DatasetSpec
from viewer.bench.proxy import ProxyStats
from viewer.bench.stats import Summary

FAST_REPEAT = 5
QUICK_FAST_REPEAT = 2


@dataclass(frozen=True, slots=True)
class Targets:
    """Pass/fail thresholds; every one can be changed on the command line."""

    batch_statements: int = 1
    speedup_vs_n_plus_1: float = 10.0
    speedup_rtt_ms: float = 5.0
    floor_ratio: float = 1.5
    concurrency_p95_ms: float = 200.0


@dataclass(frozen=True, slots=True)
class BenchConfig:
    rtt_ms: tuple[float, ...] = (0.0, 5.0)
    rounds: int = 20
    # Strategies at least fast_factor times faster than the slowest one in the warm-up run
    # fast_repeat times per round (shuffled in with the rest): their tails (p95, p99) then rest
    # on more than a few samples, for little time.
    fast_repeat: int = FAST_REPEAT
    fast_factor: float = 5.0
    # Warm-up: until a strategy has run warmup_runs times (psycopg prepares a statement on its
    # fifth execution) or for warmup_budget_s, whichever comes first; at least once.
    warmup_runs: int = 6
    warmup_budget_s: float = 1.0
    concurrency: int = 50
    bursts: int = 4
    dataset: DatasetSpec = field(default_factory=DatasetSpec)
    thumbnails: bool = True
    thumbnail_threads: int | None = None
    seed: int = 1
    targets: Targets = field(default_factory=Targets)


@dataclass(frozen=True, slots=True)
class StrategyResult:
    key: str
    label: str
    description: str
    statements_min: int
    statements_max: int
    rows_per_load: float
    seconds: Summary
    samples_per_round: int
    rows_per_second: float
    # Ratios of medians (robust to the odd slow round on a shared machine):
    speedup_vs_n_plus_1: float | None  # N+1's p50 / this p50
    times_floor: float | None  # this p50 / the floor's p50
    samples: tuple[float, ...]  # seconds, in the order they were taken


@dataclass(frozen=True, slots=True)
class ConcurrencyResult:
    concurrency: int
    loads: int
    ok: int
    errors: int
    retries: int
    statements_max: int
    seconds: float
    loads_per_second: float
    rows_per_second: float
    latency: Summary | None  # successful loads, from the call to the result (pool wait included)
    pool_size: int
    pool_max_overflow: int
    inspections: int  # distinct inspections in the mix
    error_messages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RttResult:
    rtt_ms: float
    measured_rtt_ms: float  # median SELECT 1 round trip on this path
    via_proxy: bool
    strategies: tuple[StrategyResult, ...]
    concurrency: ConcurrencyResult | None
    proxy: ProxyStats | None

    def strategy(self, key: str) -> StrategyResult | None:
        return next((s for s in self.strategies if s.key == key), None)


@dataclass(frozen=True, slots=True)
class ThumbnailPass:
    name: str
    seconds: float
    per_second: float
    first_ms: float
    delivered: int
    failed: int


@dataclass(frozen=True, slots=True)
class ThumbnailsResult:
    status: str  # measured | skipped | pending
    detail: str
    files: int = 0
    threads: int = 0
    size_px: int = 0
    passes: tuple[ThumbnailPass, ...] = ()
    cache_bytes: int | None = None
    cache_cap_bytes: int | None = None
    cache_evictions: int | None = None


@dataclass(frozen=True, slots=True)
class TargetResult:
    key: str
    description: str
    threshold: str
    measured: str
    status: str  # pass | fail | skip


@dataclass(frozen=True, slots=True)
class BenchReport:
    command: str
    started_at: str
    seconds: float
    machine: dict[str, Any]
    database: dict[str, Any]
    dataset: dict[str, Any]
    config: BenchConfig
    rtts: tuple[RttResult, ...]
    thumbnails: ThumbnailsResult
    targets: tuple[TargetResult, ...] = ()

    @property
    def passed(self) -> bool:
        return all(t.status != "fail" for t in self.targets)
