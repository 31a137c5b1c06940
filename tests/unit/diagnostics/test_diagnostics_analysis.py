"""SQL elision, labels, and Django Debug Toolbar grouping with Sentry's N+1 rule."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from db.diagnostics import analyze_action, collect, display_label, elide_sql, short_sql
from db.metrics import QueryMetrics
from tests.unit.diagnostics.factories import BATCH_SQL, PER_ITEM_SQL, record_action, statement_lists


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
