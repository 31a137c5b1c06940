"""The benchmark's statistics: percentiles like numpy's, and an interval of the median that
respects the data (never below zero, never outside the samples, the same on every run)."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from viewer.bench.stats import median_confidence_interval, summarize

# Durations in seconds, from a microsecond to a minute; lists of up to 60 like a bench run.
_DURATIONS = st.lists(
    st.floats(min_value=1e-6, max_value=60.0, allow_nan=False, allow_infinity=False),
    min_size=2,
    max_size=60,
)


@given(samples=_DURATIONS)
def test_interval_lies_within_the_samples_and_contains_the_median(samples: list[float]) -> None:
    summary = summarize(samples)
    assert summary.ci_low is not None and summary.ci_high is not None
    assert 0 < summary.minimum <= summary.ci_low <= summary.p50
    assert summary.p50 <= summary.ci_high <= summary.maximum


def test_three_noisy_durations_get_an_interval_above_zero() -> None:
    # The case: three samples on a loaded machine, where mean +- t * s / sqrt(3) went
    # down to -13 ms. Any value of a resample is one of the three, so is its median.
    summary = summarize([0.0105, 0.0121, 0.0427])
    assert (summary.ci_low, summary.ci_high) == (0.0105, 0.0427)
    assert summary.ci_low > 0


def test_interval_is_deterministic_and_ignores_the_order_of_the_samples() -> None:
    rng = random.Random(7)
    samples = [rng.lognormvariate(-4.0, 0.6) for _ in range(40)]
    first = median_confidence_interval(samples)
    assert first is not None
    assert median_confidence_interval(samples) == first
    assert median_confidence_interval(sorted(samples, reverse=True)) == first
    assert summarize(samples) == summarize(list(reversed(samples)))
    # Another seed gives another Monte Carlo estimate: the seed is what makes it repeatable.
    assert median_confidence_interval(samples, seed=1) != first


def _exact_bootstrap_median_rank(n: int, p: float) -> int:
    """The 1-based rank j of the order statistic at the p quantile of the exact bootstrap
    distribution of the median, for odd n: P(median* <= x(j)) = P(Binomial(n, j/n) >= k)."""
    k = (n + 1) // 2
    for j in range(1, n + 1):
        q = j / n
        cdf = sum(math.comb(n, i) * q**i * (1 - q) ** (n - i) for i in range(k, n + 1))
        if cdf >= p:
            return j
    return n


@pytest.mark.parametrize("n", [5, 11, 21, 51])
def test_interval_matches_the_exact_bootstrap_distribution(n: int) -> None:
    # On the values 1..n the interval's ends are ranks; 2,000 resamples land within one rank
    # of the exact 2.5% and 97.5% quantiles of the resampled median.
    low, high = median_confidence_interval([float(v) for v in range(1, n + 1)]) or (0, 0)
    assert abs(low - _exact_bootstrap_median_rank(n, 0.025)) <= 1
    assert abs(high - _exact_bootstrap_median_rank(n, 0.975)) <= 1
    assert low < (n + 1) / 2 < high


def test_interval_narrows_as_samples_accumulate() -> None:
    rng = random.Random(3)
    population = [rng.lognormvariate(-4.0, 0.5) for _ in range(400)]
    widths = []
    for n in (10, 100, 400):
        low, high = median_confidence_interval(population[:n]) or (0, 0)
        widths.append(high - low)
    assert widths[0] > widths[1] > widths[2] > 0


def test_bad_arguments() -> None:
    assert median_confidence_interval([4.2]) is None
    with pytest.raises(ValueError):
        median_confidence_interval([1.0, 2.0], confidence=1.0)
    with pytest.raises(ValueError):
        median_confidence_interval([1.0, 2.0], resamples=0)


def test_summary_percentiles_interpolate_like_numpy() -> None:
    summary = summarize([float(v) for v in range(100, 0, -1)])  # any order
    assert summary.count == 100
    assert summary.mean == pytest.approx(50.5)
    # numpy.percentile(range(1, 101), [50, 95, 99]) -> 50.5, 95.05, 99.01
    assert summary.p50 == pytest.approx(50.5)
    assert summary.p95 == pytest.approx(95.05)
    assert summary.p99 == pytest.approx(99.01)
    assert (summary.minimum, summary.maximum) == (1.0, 100.0)
    assert summary.stdev == pytest.approx(29.011491975882016)
    assert summary.ci_low is not None and summary.ci_high is not None
    # The median of 100 values is known to about +-1 standard error, 1.2533 * sd / sqrt(n),
    # 3.6 here: the 95% interval is about 50.5 +- 7.
    assert 40 < summary.ci_low < 50.5 < summary.ci_high < 61


def test_summary_of_one_and_of_none() -> None:
    one = summarize([0.25])
    assert (one.mean, one.p50, one.p95, one.p99, one.stdev) == (0.25, 0.25, 0.25, 0.25, 0.0)
    assert one.ci_low is None and one.ci_high is None
    with pytest.raises(ValueError):
        summarize([])
