"""The health score: 100 minus four bounded penalties, and the hover text that explains it."""

from __future__ import annotations

from db.diagnostics.figures import Health, HealthPart

# The score, 0 to 100: 100 minus four bounded penalties (the hover text shows this and each part).
HEALTH_WEIGHTS = {"errors": 40.0, "fallbacks": 25.0, "latency": 25.0, "cache": 10.0}
# Error rate at which the whole error share is lost: one action in ten failing or retrying is
# already an outage to the person waiting.
HEALTH_ERROR_RATE_CEILING = 0.10
HEALTH_BANDS = ((90, "good"), (70, "fair"), (0, "poor"))
HEALTH_FORMULA = (
    "score = 100 - errors - fallbacks - latency - cache, each part bounded:\n"
    "  errors    = 40 * min(1, error rate / 10%)   errors and retries per action\n"
    "  fallbacks = 25 * fallback rate              media loads on the per-item fallback\n"
    "  latency   = 25 * clamp(p95 / target - 1, 0, 1)   media loads: nothing at or under\n"
    "              the target, all 25 at twice it\n"
    "  cache     = 10 * (1 - hit rate)             thumbnail memory cache\n"
    "good >= 90, fair >= 70, poor below"
)


def _clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return min(high, max(low, value))


def health_score(
    *,
    actions: int,
    errors: int,
    media_loads: int,
    fallbacks: int,
    p95_s: float | None,
    p95_target_s: float,
    cache_hits: int,
    cache_lookups: int,
) -> Health:
    """The formula in HEALTH_FORMULA. A part with nothing measured yet costs nothing: a fresh
    session is healthy until it shows otherwise."""
    error_rate = errors / actions if actions else 0.0
    fallback_rate = _clamp(fallbacks / media_loads) if media_loads else 0.0
    overshoot = _clamp(p95_s / p95_target_s - 1) if p95_s is not None and p95_target_s else 0.0
    hit_rate = cache_hits / cache_lookups if cache_lookups else 1.0
    w = HEALTH_WEIGHTS
    parts = (
        HealthPart(
            "errors",
            w["errors"],
            w["errors"] * _clamp(error_rate / HEALTH_ERROR_RATE_CEILING),
            f"{errors} in {actions} actions ({error_rate:.1%})",
        ),
        HealthPart(
            "fallbacks",
            w["fallbacks"],
            w["fallbacks"] * fallback_rate,
            f"{fallbacks} of {media_loads} media loads ({fallback_rate:.1%})",
        ),
        HealthPart(
            "latency",
            w["latency"],
            w["latency"] * overshoot,
            "no media loads yet"
            if p95_s is None
            else f"p95 {p95_s * 1000:.0f} ms against {p95_target_s * 1000:.0f} ms",
        ),
        HealthPart(
            "cache",
            w["cache"],
            w["cache"] * (1 - hit_rate),
            "no lookups yet"
            if not cache_lookups
            else f"hit rate {hit_rate:.1%} of {cache_lookups:,} lookups",
        ),
    )
    score = round(_clamp(100 - sum(p.penalty for p in parts), 0, 100))
    band = next(name for floor, name in HEALTH_BANDS if score >= floor)
    return Health(score=score, band=band, parts=parts)


def health_tooltip(health: Health) -> str:
    lines = [f"Health {health.score} / 100 ({health.band})", ""]
    lines += [f"{p.name}: -{p.penalty:.1f} of {p.weight:.0f}  ({p.measured})" for p in health.parts]
    return "\n".join([*lines, "", HEALTH_FORMULA])
