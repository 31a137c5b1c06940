"""Summary statistics of timing samples: percentiles, and a bootstrap interval of the median."""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from db.stats import percentile

# Enough resamples for the interval's ends to settle to within a rank or so of the exact
# bootstrap quantiles; a fixed seed makes the same samples give the same interval on every run.
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True, slots=True)
class Summary:
    """A sample of durations (or any values): location, spread and tails."""

    count: int
    mean: float
    stdev: float  # sample standard deviation (n - 1); 0 for a single value
    # Confidence interval of the median (p50), a bootstrap percentile interval: it lies within
    # [minimum, maximum], so a duration's interval never goes below zero. None below two values.
    ci_low: float | None
    ci_high: float | None
    confidence: float
    minimum: float
    p50: float
    p95: float
    p99: float
    maximum: float


def median_confidence_interval(
    values: Sequence[float],
    confidence: float = 0.95,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float] | None:
    """Bootstrap percentile interval of the median: the median of `resamples` resamples with
    replacement, and the (1 - confidence) / 2 and (1 + confidence) / 2 percentiles of those.

    Unlike mean +- t * s / sqrt(n) it assumes no shape of the distribution (latencies are skewed,
    with a long right tail), and every resampled median is a value or the midpoint of two values
    of the sample: the interval stays within the data, never below the fastest sample.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if resamples < 1:
        raise ValueError(f"resamples must be positive, got {resamples}")
    n = len(values)
    if n < 2:
        return None
    ordered = sorted(values)
    rng = random.Random(seed)
    medians = sorted(statistics.median(rng.choices(ordered, k=n)) for _ in range(resamples))
    low = percentile(medians, (1.0 - confidence) / 2.0)
    high = percentile(medians, (1.0 + confidence) / 2.0)
    assert low is not None and high is not None  # at least one resample
    return low, high


def summarize(values: Sequence[float], confidence: float = 0.95) -> Summary:
    if not values:
        raise ValueError("no values to summarize")
    ordered = sorted(float(v) for v in values)
    interval = median_confidence_interval(ordered, confidence)

    def pct(q: float) -> float:
        value = percentile(ordered, q)
        assert value is not None  # not empty
        return value

    return Summary(
        count=len(ordered),
        mean=statistics.fmean(ordered),
        stdev=statistics.stdev(ordered) if len(ordered) > 1 else 0.0,
        ci_low=interval[0] if interval else None,
        ci_high=interval[1] if interval else None,
        confidence=confidence,
        minimum=ordered[0],
        p50=pct(0.50),
        p95=pct(0.95),
        p99=pct(0.99),
        maximum=ordered[-1],
    )
