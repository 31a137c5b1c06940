"""Summary statistics of timing samples: mean with a Student-t confidence interval, percentiles."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from db.stats import percentile

# Lentz's continued fraction converges in a few dozen steps for the arguments a t quantile
# needs; the cap only guards against a bug turning into an endless loop.
_MAX_ITERATIONS = 300
_EPSILON = 3e-16
_TINY = 1e-300


def _beta_continued_fraction(x: float, a: float, b: float) -> float:
    # Numerical Recipes' betacf, by the modified Lentz method.
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_ITERATIONS + 1):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            delta = d * c
            h *= delta
        if abs(delta - 1.0) < _EPSILON:
            return h
    raise ArithmeticError(f"incomplete beta did not converge for x={x}, a={a}, b={b}")


def regularized_incomplete_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b) for 0 <= x <= 1 and a, b > 0."""
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x must be in [0, 1], got {x}")
    if x in (0.0, 1.0):
        return x
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    # The continued fraction converges fast only on this side; use the symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(x, a, b) / a
    return 1.0 - front * _beta_continued_fraction(1.0 - x, b, a) / b


def student_t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t distribution with `df` degrees of freedom."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    tail = 0.5 * regularized_incomplete_beta(df / (df + t * t), df / 2.0, 0.5)
    return 1.0 - tail if t >= 0 else tail


def student_t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p, by bisection on the CDF (exact to ~1e-12; no scipy here)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if p < 0.5:
        return -student_t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while student_t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if student_t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * max(1.0, hi):
            break
    return (lo + hi) / 2.0


@dataclass(frozen=True, slots=True)
class Summary:
    """A sample of durations (or any values): location, spread and tails."""

    count: int
    mean: float
    stdev: float  # sample standard deviation (n - 1); 0 for a single value
    ci_low: float | None  # confidence interval of the mean; None below two values
    ci_high: float | None
    confidence: float
    minimum: float
    p50: float
    p95: float
    p99: float
    maximum: float

    @property
    def ci_half_width(self) -> float | None:
        if self.ci_low is None or self.ci_high is None:
            return None
        return (self.ci_high - self.ci_low) / 2.0


def mean_confidence_interval(
    values: Sequence[float], confidence: float = 0.95
) -> tuple[float, float] | None:
    """Two-sided interval for the mean: mean +- t(1 - alpha/2, n - 1) * s / sqrt(n)."""
    n = len(values)
    if n < 2:
        return None
    mean = statistics.fmean(values)
    half = student_t_quantile(0.5 + confidence / 2.0, n - 1) * statistics.stdev(values) / n**0.5
    return mean - half, mean + half


def summarize(values: Sequence[float], confidence: float = 0.95) -> Summary:
    if not values:
        raise ValueError("no values to summarize")
    ordered = sorted(float(v) for v in values)
    interval = mean_confidence_interval(ordered, confidence)

    def pct(q: float) -> float:
        value = percentile(ordered, q)
        assert value is not None  # not empty
        return value

    return Summary(
        count=len(ordered),
        mean=statistics.fmean(ordered),
        stdev=statistics.stdev(ordered) if len(ordered) > 1 else 0.0,
        # Durations: a wide interval over few noisy samples must not claim a negative time.
        ci_low=max(0.0, interval[0]) if interval else None,
        ci_high=interval[1] if interval else None,
        confidence=confidence,
        minimum=ordered[0],
        p50=pct(0.50),
        p95=pct(0.95),
        p99=pct(0.99),
        maximum=ordered[-1],
    )
