"""The Qt-free performance figures: grouping, N+1, latency windows, health, JSON, offline guard."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import create_async_engine

from db.diagnostics import (
    DIAGNOSTICS_KIND,
    LATENCY_KINDS,
    OFFLINE_MESSAGE,
    ExplainFigures,
    PanelSettings,
    ServerReport,
    SnapshotError,
    ThumbnailFigures,
    TopStatement,
    analyze_action,
    collect,
    display_label,
    elide_sql,
    engine_server_report,
    health_score,
    health_tooltip,
    load,
    plan_indexes,
    render_plan,
    server_report,
    short_sql,
    snapshot,
)
from db.metrics import QueryMetrics, StatementRecord
from db.performance import IndexUsage, QueryPerformance
from tests.unit.test_metrics import _reference_percentile

PER_ITEM_SQL = (
    "SELECT media.id, media.checklist_item_id\nFROM media JOIN checklist_items ON "
    "checklist_items.id = media.checklist_item_id\nWHERE media.checklist_item_id = "
    "%(checklist_item_id_1)s::BIGINT AND media.deleted_at IS NULL"
)
BATCH_SQL = "SELECT media_id FROM get_inspection_media_batch(CAST(%(inspection_id)s AS bigint))"


def thumbnails(**overrides: Any) -> ThumbnailFigures:
    counts: dict[str, Any] = {
        "entries": 10,
        "bytes": 2_621_440,
        "cap_bytes": 134_217_728,
        "hits": 30,
        "misses": 10,
        "evictions": 2,
        "requests": 45,
        "memory_hits": 30,
        "disk_hits": 4,
        "decodes": 6,
        "errors": {"missing": 1, "corrupt": 2},
        "queued": 0,
        "in_flight": 0,
    }
    return ThumbnailFigures.make(**{**counts, **overrides})


def record_action(
    metrics: QueryMetrics,
    kind: str,
    statements: list[tuple[str, str, float]],
    *,
    strategy: str | None = None,
    rows: int = 0,
    **labels: object,
) -> None:
    with metrics.action(kind, **labels) as scope:
        scope.strategy = strategy
        scope.rows = rows
        for sql, params, seconds in statements:
            scope.statements.append(StatementRecord(sql, params, seconds, 1))


# --- SQL text -----------------------------------------------------------------------------------


def test_elide_sql_replaces_every_parameter_and_literal_and_keeps_casts() -> None:
    assert elide_sql(PER_ITEM_SQL).endswith(
        "WHERE media.checklist_item_id = ?::BIGINT AND media.deleted_at IS NULL"
    )
    assert "\n" not in elide_sql(PER_ITEM_SQL)
    assert elide_sql("SELECT * FROM t WHERE a = ? AND b = :b AND c = $1") == (
        "SELECT * FROM t WHERE a = ? AND b = ? AND c = ?"
    )
    assert elide_sql("SELECT 'it''s', 42, 4.5, x1 FROM t LIMIT 10") == (
        "SELECT ?, ?, ?, x1 FROM t LIMIT ?"
    )
    assert elide_sql("SELECT 1 FROM t WHERE id IN (%s, %s, %s)") == (
        "SELECT ? FROM t WHERE id IN (...)"
    )
    assert elide_sql("SELECT a::bigint FROM t") == "SELECT a::bigint FROM t"


def test_short_sql_collapses_the_top_level_select_list_only() -> None:
    assert short_sql(elide_sql(PER_ITEM_SQL)).startswith("SELECT … FROM media JOIN checklist_items")
    nested = "SELECT a, (SELECT max(x) FROM u) AS m FROM t WHERE b = ?"
    assert short_sql(nested) == "SELECT … FROM t WHERE b = ?"
    assert short_sql("UPDATE t SET a = ?") == "UPDATE t SET a = ?"


def test_labels_name_the_inspection_by_reference_code_when_known() -> None:
    codes = {42: "AB-1042"}
    assert display_label("load_media inspection=42", codes.get) == "load_media inspection=AB-1042"
    assert display_label("load_media inspection=7", codes.get) == "load_media inspection=7"
    assert display_label("load_page page=1", codes.get) == "load_page page=1"


# --- Django Debug Toolbar grouping and Sentry's N+1 rule --------------------------------------

statement_lists = st.lists(
    st.tuples(
        st.sampled_from(["SELECT a FROM t WHERE id = %(p)s", "SELECT b FROM u", PER_ITEM_SQL]),
        st.sampled_from(["{'p': 1}", "{'p': 2}", "{}"]),
        st.floats(min_value=0, max_value=1, allow_nan=False),
    ),
    max_size=40,
)


@given(statement_lists, st.integers(min_value=2, max_value=8))
def test_similar_duplicate_and_n_plus_one_match_a_plain_count(
    statements: list[tuple[str, str, float]], threshold: int
) -> None:
    metrics = QueryMetrics()
    record_action(metrics, "load_media", statements, inspection=1)
    record = metrics.recent()[-1]
    analysis = analyze_action(
        record, "load_media inspection=1", slow_threshold_s=0.5, n_plus_one_threshold=threshold
    )
    similar = Counter(sql for sql, _, _ in statements)
    duplicates = Counter((sql, params) for sql, params, _ in statements)
    assert [(r.similar, r.duplicates) for r in analysis.statements] == [
        (similar[sql], duplicates[sql, params]) for sql, params, _ in statements
    ]
    assert [r.slow for r in analysis.statements] == [s >= 0.5 for _, _, s in statements]
    assert analysis.summary.similar == sum(n for n in similar.values() if n > 1)
    assert analysis.summary.duplicates == sum(n for n in duplicates.values() if n > 1)
    flagged = {(w.sql, w.count) for w in analysis.n_plus_one}
    assert flagged == {(elide_sql(sql), n) for sql, n in similar.items() if n >= threshold}


def test_the_fallback_shape_is_flagged_naming_its_per_item_statement() -> None:
    metrics = QueryMetrics()
    per_item = [(PER_ITEM_SQL, f"{{'checklist_item_id_1': {i}}}", 0.001) for i in range(220)]
    record_action(
        metrics,
        "load_media",
        [(BATCH_SQL, "{}", 0.002), *per_item],
        strategy="fallback",
        inspection=9,
    )
    figures = collect(metrics, reference_of={9: "INS-2026-0412"}.get)
    (warning,) = figures.n_plus_one
    assert warning.count == 220
    assert warning.action == "load_media inspection=INS-2026-0412"
    assert "media.checklist_item_id = ?" in warning.sql
    assert figures.last_action is not None
    assert (figures.last_action.statement_count, figures.last_action.strategy) == (221, "fallback")
    assert figures.last_action.duplicates == 0, "every item has its own parameters"


# --- latency windows ------------------------------------------------------------------------------


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


# --- the last action, slow statements, the panel's own scope -------------------------------------


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


# --- health -------------------------------------------------------------------------------------


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


# --- JSON ---------------------------------------------------------------------------------------

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


# --- EXPLAIN plans ----------------------------------------------------------------------------

PLAN = {
    "Plan": {
        "Node Type": "Sort",
        "Startup Cost": 10.0,
        "Total Cost": 10.5,
        "Plan Rows": 20,
        "Plan Width": 100,
        "Actual Startup Time": 0.2,
        "Actual Total Time": 0.25,
        "Actual Rows": 20,
        "Actual Loops": 1,
        "Sort Key": ['ci."position"', "m.captured_at", "m.id"],
        "Sort Method": "quicksort",
        "Sort Space Used": 30,
        "Sort Space Type": "Memory",
        "Shared Hit Blocks": 12,
        "Plans": [
            {
                "Node Type": "Nested Loop",
                "Total Cost": 9.0,
                "Plans": [
                    {
                        "Node Type": "Index Scan",
                        "Index Name": "ix_media_inspection_display",
                        "Relation Name": "media",
                        "Alias": "m",
                        "Index Cond": "(inspection_id = '7'::bigint)",
                        "Total Cost": 4.0,
                    },
                    {
                        "Node Type": "Index Scan",
                        "Index Name": "checklist_items_pkey",
                        "Relation Name": "checklist_items",
                        "Alias": "ci",
                        "Total Cost": 4.0,
                    },
                ],
            }
        ],
    },
    "Planning Time": 0.5,
    "Execution Time": 0.4,
}


def test_the_plan_renders_like_explain_text_and_names_its_indexes() -> None:
    assert plan_indexes(PLAN["Plan"]) == ("ix_media_inspection_display", "checklist_items_pkey")
    text = render_plan(PLAN)
    lines = text.splitlines()
    assert lines[0].startswith("Sort  (cost=10.00..10.50 rows=20 width=100) (actual time=")
    assert '  Sort Key: ci."position", m.captured_at, m.id' in lines
    assert "  Buffers: shared hit=12" in lines
    assert any(
        line.startswith("        ->  Index Scan using ix_media_inspection_display on media m")
        for line in lines
    )
    assert "              Index Cond: (inspection_id = '7'::bigint)" in lines
    assert lines[-1] == "Execution Time: 0.400 ms"


# --- offline ------------------------------------------------------------------------------------


def test_an_offline_sqlite_database_is_never_asked_anything() -> None:
    async def scenario() -> tuple[ServerReport, ServerReport, QueryMetrics, list[str]]:
        engine = create_async_engine("sqlite+aiosqlite://")
        metrics = QueryMetrics()
        metrics.instrument(engine.sync_engine)
        executed: list[str] = []
        from sqlalchemy import event

        event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: executed.append(a[2]))
        try:
            async with engine.connect() as conn:
                executed.clear()
                direct = await server_report(conn, metrics, inspection_id=1)
            through_engine = await engine_server_report(engine, metrics, inspection_id=1)
        finally:
            await engine.dispose()
        return direct, through_engine, metrics, executed

    direct, through_engine, metrics, executed = asyncio.run(scenario())
    for report in (direct, through_engine):
        assert not report.available
        assert report.message == OFFLINE_MESSAGE
        assert "Not available offline" in report.message
    assert executed == []
    assert metrics.counters["actions"] == 0
