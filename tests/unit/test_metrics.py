"""The Qt-free metrics core: scopes keep concurrent actions apart, percentiles are right."""

from __future__ import annotations

import asyncio
import statistics

from hypothesis import given
from hypothesis import strategies as st

from db.metrics import QueryMetrics, StatementRecord, current_scope, percentiles
from db.stats import percentile


def _reference_percentile(values: list[float], q: float) -> float:
    # statistics.quantiles' "inclusive" method is the same linear interpolation as numpy's.
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[round(q * 100) - 1]


@given(st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=1, max_size=300))
def test_percentiles_match_a_reference_computation(values: list[float]) -> None:
    got = percentiles(values)
    assert got.count == len(values)
    assert got.max == max(values)
    for q, value in ((0.50, got.p50), (0.95, got.p95), (0.99, got.p99)):
        assert value is not None
        assert abs(value - _reference_percentile(values, q)) <= 1e-6 * max(1.0, max(values))


def test_percentile_of_nothing_is_none() -> None:
    assert percentile([], 0.5) is None
    assert percentiles([]).p95 is None


@given(
    st.lists(st.floats(min_value=0, max_value=10, allow_nan=False), max_size=60),
    st.integers(min_value=1, max_value=20),
)
def test_rolling_window_keeps_only_the_newest_values(values: list[float], window: int) -> None:
    metrics = QueryMetrics(window=window)
    for v in values:
        metrics.record_duration("decode", v)
    kept = values[-window:]
    assert metrics.latency("decode") == percentiles(kept)


def test_concurrent_actions_record_their_own_statements() -> None:
    metrics = QueryMetrics()

    async def action(name: str, n: int) -> None:
        with metrics.action("load_media", inspection=name) as scope:
            for i in range(n):
                await asyncio.sleep(0)  # interleave with the other action
                assert current_scope() is scope
                scope.statements.append(StatementRecord(f"SELECT {i}", "", 0.001, 1))

    async def both() -> None:
        await asyncio.gather(action("A", 3), action("B", 5))

    asyncio.run(both())
    by_label = {r.label: r.statement_count for r in metrics.recent()}
    assert by_label == {"load_media inspection=A": 3, "load_media inspection=B": 5}
    assert metrics.counters["statements"] == 8
    assert current_scope() is None


def test_listeners_hear_every_finished_action_and_failures_count_as_errors() -> None:
    metrics = QueryMetrics()
    heard: list[str] = []
    unsubscribe = metrics.subscribe(lambda record: heard.append(record.label))
    with metrics.action("load_checklist", inspection=1):
        pass
    try:
        with metrics.action("load_media", inspection=2):
            raise RuntimeError("server gone")
    except RuntimeError:
        pass
    unsubscribe()
    with metrics.action("load_media", inspection=3):
        pass
    assert heard == ["load_checklist inspection=1", "load_media inspection=2"]
    assert metrics.counters["errors"] == 1
    assert metrics.last_error == "server gone"
    assert metrics.latency("load_media").count == 1, "failed actions stay out of latency"


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["load_media", "thumbnail_decode", "thumbnail_disk"]),
            st.floats(min_value=0, max_value=10, allow_nan=False),
        ),
        max_size=80,
    ),
    st.integers(min_value=1, max_value=25),
)
def test_each_kind_keeps_its_own_rolling_window_in_order(
    events: list[tuple[str, float]], window: int
) -> None:
    metrics = QueryMetrics(window=window)
    for kind, seconds in events:
        metrics.record_duration(kind, seconds)
    for kind in ("load_media", "thumbnail_decode", "thumbnail_disk"):
        expected = [s for k, s in events if k == kind][-window:]
        assert metrics.samples(kind) == expected
        assert metrics.latency(kind) == percentiles(expected)


def test_slow_statements_are_kept_newest_last_bounded_and_cleared_by_reset() -> None:
    metrics = QueryMetrics(slow_threshold_s=0.5, slow_limit=3)
    for i, seconds in enumerate((0.1, 0.5, 0.7, 0.2, 0.9, 1.5)):
        with metrics.action("load_media", inspection=i) as scope:
            scope.statements.append(StatementRecord(f"SELECT {i}", "{}", seconds, 1))
    slow = metrics.slow_statements()
    assert [s.seconds for s in slow] == [0.7, 0.9, 1.5], "at or over 0.5 s, the newest three"
    assert slow[-1].label == "load_media inspection=5" and slow[-1].sql == "SELECT 5"
    assert metrics.actions_by_kind == {"load_media": 6}
    metrics.reset()
    assert metrics.slow_statements() == [] and metrics.actions_by_kind == {}


def test_an_uncounted_scope_keeps_its_statements_to_itself() -> None:
    metrics = QueryMetrics(slow_threshold_s=0.0)
    heard: list[str] = []
    changes: list[None] = []
    metrics.subscribe(lambda record: heard.append(record.kind))
    metrics.watch(lambda: changes.append(None))
    with metrics.action("diagnostics", counted=False) as scope:
        assert current_scope() is scope
        scope.statements.append(StatementRecord("EXPLAIN SELECT 1", "{}", 2.0, 1))
    assert len(scope.statements) == 1
    assert metrics.recent() == [] and heard == [] and changes == []
    assert metrics.counters["actions"] == metrics.counters["statements"] == 0
    assert metrics.slow_statements() == []


def test_watchers_hear_actions_durations_and_resets_until_unwatched() -> None:
    metrics = QueryMetrics()
    changes: list[str] = []
    unwatch = metrics.watch(lambda: changes.append("changed"))
    with metrics.action("load_checklist", inspection=1):
        pass
    metrics.record_duration("thumbnail_decode", 0.01)
    metrics.reset()
    unwatch()
    metrics.record_duration("thumbnail_decode", 0.01)
    assert changes == ["changed"] * 3
