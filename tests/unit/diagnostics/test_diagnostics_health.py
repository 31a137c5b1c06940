"""The health score, its bands and hover text, and thumbnail counters since a reset."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.diagnostics import collect, health_score, health_tooltip
from db.metrics import QueryMetrics
from tests.unit.diagnostics.factories import thumbnails


def test_a_clean_session_scores_100_and_each_part_costs_at_most_its_weight() -> None:
    perfect = health_score(
        actions=10,
        errors=0,
        media_loads=5,
        fallbacks=0,
        p95_s=0.01,
        p95_target_s=0.25,
        cache_hits=10,
        cache_lookups=10,
    )
    assert (perfect.score, perfect.band) == (100, "good")
    worst = health_score(
        actions=10,
        errors=50,
        media_loads=5,
        fallbacks=5,
        p95_s=9.0,
        p95_target_s=0.25,
        cache_hits=0,
        cache_lookups=10,
    )
    assert (worst.score, worst.band) == (0, "poor")
    assert [p.penalty for p in worst.parts] == [p.weight for p in worst.parts]
    tooltip = health_tooltip(worst)
    assert "score = 100 - errors - fallbacks - latency - cache" in tooltip
    assert "fallbacks: -25.0 of 25  (5 of 5 media loads (100.0%))" in tooltip


@given(
    st.integers(0, 100),
    st.integers(0, 100),
    st.integers(0, 50),
    st.integers(0, 50),
    st.one_of(st.none(), st.floats(0, 10)),
    st.integers(0, 100),
    st.integers(0, 100),
)
def test_health_is_bounded_and_never_rises_with_more_errors(
    actions: int,
    errors: int,
    loads: int,
    fallbacks: int,
    p95: float | None,
    hits: int,
    misses: int,
) -> None:
    def score(errors: int) -> int:
        return health_score(
            actions=actions,
            errors=errors,
            media_loads=loads,
            fallbacks=min(fallbacks, loads),
            p95_s=p95,
            p95_target_s=0.25,
            cache_hits=hits,
            cache_lookups=hits + misses,
        ).score

    assert 0 <= score(errors) <= 100
    assert score(errors + 1) <= score(errors)


def test_bands_follow_the_documented_floors() -> None:
    def band(fallbacks: int) -> tuple[int, str]:
        health = health_score(
            actions=100,
            errors=0,
            media_loads=100,
            fallbacks=fallbacks,
            p95_s=None,
            p95_target_s=0.25,
            cache_hits=0,
            cache_lookups=0,
        )
        return health.score, health.band

    assert band(40) == (90, "good")
    assert band(44) == (89, "fair")
    assert band(100) == (75, "fair")


def test_health_uses_the_thumbnail_cache_hit_rate() -> None:
    metrics = QueryMetrics()
    figures = collect(metrics, thumbnails=thumbnails(hits=1, misses=3))
    cache = next(p for p in figures.health.parts if p.name == "cache")
    assert cache.penalty == pytest.approx(10 * 0.75)
    assert figures.health.score == 92


def test_thumbnail_counters_since_a_baseline_keep_the_state_figures() -> None:
    baseline = thumbnails()
    later = thumbnails(hits=40, misses=12, decodes=9, errors={"missing": 1, "corrupt": 5})
    since = later.since(baseline)
    assert (since.hits, since.misses, since.decodes) == (10, 2, 3)
    assert since.errors == {"corrupt": 3} and since.errors_total == 3
    assert since.hit_rate == pytest.approx(10 / 12)
    assert (since.entries, since.bytes, since.cap_bytes) == (10, 2_621_440, 134_217_728)
