"""The benchmark's statistics against published values: t quantiles, intervals, percentiles."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from viewer.bench.stats import (
    mean_confidence_interval,
    regularized_incomplete_beta,
    student_t_cdf,
    student_t_quantile,
    summarize,
)

# Two-sided 95% critical values t(0.975, df), as printed in every statistics table (and by
# scipy.stats.t.ppf(0.975, df)).
T_975 = {
    1: 12.706204736,
    2: 4.302652730,
    3: 3.182446305,
    4: 2.776445105,
    5: 2.570581836,
    9: 2.262157163,
    10: 2.228138852,
    19: 2.093024054,
    29: 2.045229642,
    30: 2.042272456,
    99: 1.984216952,
    1000: 1.962339081,
}


@pytest.mark.parametrize(("df", "expected"), sorted(T_975.items()))
def test_t_quantile_matches_the_table(df: int, expected: float) -> None:
    assert student_t_quantile(0.975, df) == pytest.approx(expected, abs=1e-8)


def test_t_quantile_other_levels_and_symmetry() -> None:
    assert student_t_quantile(0.995, 9) == pytest.approx(3.249835542, abs=1e-8)
    assert student_t_quantile(0.95, 20) == pytest.approx(1.724718243, abs=1e-8)
    assert student_t_quantile(0.5, 7) == pytest.approx(0.0, abs=1e-10)
    assert student_t_quantile(0.025, 10) == pytest.approx(-2.228138852, abs=1e-8)
    # Many degrees of freedom: the normal distribution's 1.959964.
    assert student_t_quantile(0.975, 10**7) == pytest.approx(1.959964, abs=1e-5)


def test_t_cdf_known_values() -> None:
    assert student_t_cdf(0.0, 3) == pytest.approx(0.5)
    # df = 1 is the Cauchy distribution: F(t) = 1/2 + atan(t)/pi.
    for t in (-3.0, -0.5, 0.7, 12.0):
        assert student_t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-12)
    # df = 2 has a closed form too: F(t) = 1/2 + t / (2 sqrt(2 + t^2)).
    for t in (-4.0, 0.3, 2.5):
        assert student_t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)))


def test_incomplete_beta_closed_forms() -> None:
    for x in (0.0, 0.1, 0.5, 0.93, 1.0):
        assert regularized_incomplete_beta(x, 1, 1) == pytest.approx(x)  # uniform
        assert regularized_incomplete_beta(x, 3, 1) == pytest.approx(x**3)
        assert regularized_incomplete_beta(x, 1, 2) == pytest.approx(1 - (1 - x) ** 2)
    assert regularized_incomplete_beta(0.5, 7.5, 7.5) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        regularized_incomplete_beta(1.5, 1, 1)


@given(
    p=st.floats(min_value=0.001, max_value=0.999),
    df=st.integers(min_value=1, max_value=500),
)
def test_quantile_inverts_the_cdf(p: float, df: int) -> None:
    assert student_t_cdf(student_t_quantile(p, df), df) == pytest.approx(p, abs=1e-9)


def test_confidence_interval_of_a_known_sample() -> None:
    # mean 3, s = sqrt(2.5), n = 5: 3 +- 2.776445105 * 1.58113883 / sqrt(5) = 3 +- 1.963243161
    low, high = mean_confidence_interval([1, 2, 3, 4, 5]) or (0, 0)
    assert (low, high) == (pytest.approx(1.036756839), pytest.approx(4.963243161))
    # A textbook example (Student's sleep data, differences of the two drugs): mean 1.58,
    # 95% CI 0.7001142 to 2.4598858, as R's t.test(extra ~ group, paired = TRUE) prints.
    sleep = [1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4]
    low, high = mean_confidence_interval(sleep) or (0, 0)
    assert (low, high) == (pytest.approx(0.7001142), pytest.approx(2.4598858))
    assert mean_confidence_interval([4.2]) is None


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
    half = T_975[99] * 29.011491975882016 / 10
    assert summary.ci_half_width == pytest.approx(half)
    assert summary.ci_low == pytest.approx(50.5 - half)


def test_summary_of_one_and_of_none() -> None:
    one = summarize([0.25])
    assert (one.mean, one.p50, one.p95, one.p99, one.stdev) == (0.25, 0.25, 0.25, 0.25, 0.0)
    assert one.ci_low is None and one.ci_half_width is None
    with pytest.raises(ValueError):
        summarize([])
