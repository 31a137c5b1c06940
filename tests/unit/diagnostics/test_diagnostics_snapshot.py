"""The JSON snapshot: every figure serialisable, loaded back equal, anything else refused."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.diagnostics import (
    ExplainFigures,
    ServerReport,
    SnapshotError,
    TopStatement,
    collect,
    load,
    snapshot,
)
from db.metrics import QueryMetrics
from db.performance import IndexUsage, QueryPerformance
from tests.unit.diagnostics.factories import record_action, statement_lists, thumbnails

SERVER = ServerReport(
    available=True,
    taken_at=1_767_225_600.25,
    functions=(QueryPerformance("get_inspection_media_batch", 3, 1.5, 1.2, 2.5, 2.9, 3.0),),
    indexes=(IndexUsage("ix_media_inspection_display", "media", 12, 3400, 81920, "80 kB", "yes"),),
    explain=ExplainFigures(7, "AB-7", "Sort\n  ->  Index Scan", ("ix_media_x",), 0.1, 2.5, 40, 2),
    top=(TopStatement("SELECT * FROM media WHERE id = $1", 5, 10.0, 2.0, 5, 50, 1),),
    top_error=None,
    statements=4,
    duration_ms=12.5,
)


@settings(max_examples=40)
@given(statement_lists, st.booleans(), st.booleans(), st.integers(1, 12))
def test_a_snapshot_is_json_and_loads_back_to_the_same_figures(
    statements: list[tuple[str, str, float]], with_thumbnails: bool, with_server: bool, n: int
) -> None:
    metrics = QueryMetrics(slow_threshold_s=0.5)
    for i in range(n):
        record_action(metrics, "load_media", statements, strategy="batch", rows=i, inspection=i)
        metrics.record_duration("thumbnail_decode", 0.001 * i)
    figures = collect(
        metrics,
        thumbnails=thumbnails() if with_thumbnails else None,
        server=SERVER if with_server else None,
        reference_of=lambda i: f"AB-{i}" if i % 2 else None,
    )
    text = json.dumps(snapshot(figures), allow_nan=False)
    assert load(json.loads(text)) == figures


def test_load_refuses_what_is_not_a_snapshot() -> None:
    good = snapshot(collect(QueryMetrics()))
    with pytest.raises(SnapshotError):
        load({**good, "version": 99})
    with pytest.raises(SnapshotError):
        load({**good, "resilience": {"actions": "many"}})
