"""Collecting figures: latency windows and chart, the last action, slow statements."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.diagnostics import DIAGNOSTICS_KIND, LATENCY_KINDS, PanelSettings, collect
from db.metrics import QueryMetrics
from tests.unit.diagnostics.factories import BATCH_SQL, record_action
from tests.unit.test_metrics import _reference_percentile


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([kind for kind, _ in LATENCY_KINDS]),
            st.floats(min_value=0.0001, max_value=30, allow_nan=False),
        ),
        max_size=120,
    ),
    st.integers(min_value=1, max_value=30),
    st.integers(min_value=0, max_value=20),
)
def test_latency_rows_and_chart_match_a_reference_on_each_window(
    events: list[tuple[str, float]], window: int, chart_points: int
) -> None:
    metrics = QueryMetrics(window=window)
    for kind, seconds in events:
        # The same window an action's wall time goes to, with durations the test chooses.
        metrics.record_duration(kind, seconds)
    figures = collect(metrics, settings=PanelSettings(chart_points=chart_points))
    assert figures.latency.window == window
    for row in figures.latency.rows:
        kept = [s for k, s in events if k == row.kind][-window:]
        assert row.count == len(kept)
        if not kept:
            assert row.p50_ms is row.p95_ms is row.p99_ms is row.max_ms is None
            continue
        tolerance = 1e-6 * max(1.0, max(kept)) * 1000
        assert row.max_ms == pytest.approx(max(kept) * 1000)
        for q, got in ((0.50, row.p50_ms), (0.95, row.p95_ms), (0.99, row.p99_ms)):
            assert got is not None
            assert abs(got - _reference_percentile(kept, q) * 1000) <= tolerance
    for kind, recent in figures.latency.recent_ms.items():
        kept = [s for k, s in events if k == kind][-window:]
        expected = kept[-chart_points:] if chart_points else []
        assert recent == pytest.approx([s * 1000 for s in expected])


def test_last_action_is_the_last_media_load_and_skips_cancelled_and_diagnostics() -> None:
    metrics = QueryMetrics()
    record_action(metrics, "load_media", [(BATCH_SQL, "{}", 0.01)], strategy="batch", inspection=1)
    record_action(metrics, "load_checklist", [("SELECT 1", "{}", 0.01)], inspection=1)
    with pytest.raises(asyncio.CancelledError), metrics.action("load_media", inspection=2):
        raise asyncio.CancelledError
    record_action(metrics, DIAGNOSTICS_KIND, [("EXPLAIN SELECT 1", "{}", 0.01)])
    figures = collect(metrics)
    assert figures.last_action is not None
    assert figures.last_action.label == "load_media inspection=1"
    assert all(a.kind != DIAGNOSTICS_KIND for a in figures.actions)
    assert [a.label for a in figures.actions][:2] == [
        "load_media inspection=2 (cancelled)",
        "load_checklist inspection=1",
    ]


def test_slow_statements_are_listed_newest_first_with_elided_sql() -> None:
    metrics = QueryMetrics(slow_threshold_s=0.5)
    record_action(metrics, "load_media", [(BATCH_SQL, "{'inspection_id': 3}", 0.75)], inspection=3)
    record_action(metrics, "load_page", [("SELECT * FROM inspections LIMIT 50", "{}", 0.6)])
    figures = collect(metrics, reference_of={3: "AB-3"}.get)
    assert figures.slow.threshold_ms == 500
    assert [(r.action, r.duration_ms) for r in figures.slow.rows] == [
        ("load_page", pytest.approx(600)),
        ("load_media inspection=AB-3", pytest.approx(750)),
    ]
    assert figures.slow.rows[0].sql == "SELECT * FROM inspections LIMIT ?"
    assert [r.slow for r in figures.statements] == [True, True]
