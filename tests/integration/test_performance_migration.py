"""Revisions 0002_performance_v1 (indexes, batch media function, timing log, health checks) and
0003_batch_item_order (the batch keeps items that share a position whole)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError

from db.engine import make_engine
from db.migrate import current_revision, downgrade, head_revision, upgrade
from db.performance import (
    BATCH_FUNCTION,
    BATCH_QUERY_SQL,
    EXPECTED_INDEXES,
    SEARCH_EXPRESSION,
    STREAM_FUNCTION,
    STREAM_QUERY_SQL,
    ValidationCheck,
    analyze_query_performance,
    validate_optimization,
    verify_index_usage,
)

OPTIMIZED_TABLES = ("inspections", "checklist_items", "media")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# --- data helpers -------------------------------------------------------------------------------


def insert_dataset(
    conn: Connection,
    *,
    inspections: int = 60,
    items_per_inspection: int = 40,
    media_per_item: int = 5,
    prefix: str = "PERF",
) -> list[int]:
    """Insert inspections of realistic shape with generate_series; returns their ids in order.

    Each inspection gets `items_per_inspection` checklist items and each item `media_per_item`
    photos taken a few minutes apart; the last photo of every 7th item is soft-deleted. Reference
    codes are `{prefix}-00001`..., so calls with different prefixes can share one database.
    """
    ids = list(
        conn.execute(
            text(
                "INSERT INTO inspections (reference_code, site_name, address, inspector_name,"
                "                         status, scheduled_at)"
                " SELECT :prefix || '-' || lpad(g::text, 5, '0'), 'Site ' || g,"
                "        g || ' Harbour Street, Unit ' || (g % 17), 'Inspector ' || (g % 6),"
                "        (ARRAY['draft', 'in_progress', 'completed', 'archived'])[1 + g % 4],"
                "        CAST(:t0 AS timestamptz) + make_interval(hours => g * 7)"
                "   FROM generate_series(1, :n) AS g ORDER BY g"
                " RETURNING id"
            ),
            {"prefix": prefix, "t0": T0, "n": inspections},
        ).scalars()
    )
    conn.execute(
        text(
            "INSERT INTO checklist_items (inspection_id, section, position, title, result)"
            " SELECT i.id, 'Section ' || (1 + (p - 1) / 10), p, 'Check ' || p,"
            "        (ARRAY['pass', 'fail', 'na', 'pending'])[1 + p % 4]"
            "   FROM unnest(CAST(:ids AS bigint[])) AS i (id)"
            "  CROSS JOIN generate_series(1, :items) AS p"
            "  ORDER BY i.id, p"
        ),
        {"ids": ids, "items": items_per_inspection},
    )
    conn.execute(
        text(
            "INSERT INTO media (inspection_id, checklist_item_id, storage_key, mime_type, width,"
            "                   height, byte_size, sha256, caption, captured_at, deleted_at)"
            " SELECT ci.inspection_id, ci.id,"
            "        ci.inspection_id || '/' || ci.id || '/' || k || '.jpg',"
            "        'image/jpeg', 4032, 3024, 1800000 + k * 7919,"
            "        md5(ci.id || '-' || k) || md5(k || '-' || ci.id),"
            "        CASE WHEN k = 1 THEN 'Overview of ' || ci.title END,"
            "        i.scheduled_at + make_interval(mins => ci.position * 4 + k),"
            "        CASE WHEN k = :media AND ci.position % 7 = 0 THEN i.scheduled_at END"
            "   FROM checklist_items AS ci"
            "   JOIN inspections AS i ON i.id = ci.inspection_id"
            "  CROSS JOIN generate_series(1, :media) AS k"
            "  WHERE ci.inspection_id = ANY(:ids)"
            "  ORDER BY ci.inspection_id, ci.position, k"
        ),
        {"ids": ids, "media": media_per_item},
    )
    return ids


def insert_inspection(conn: Connection, reference: str) -> int:
    return int(
        conn.execute(
            text(
                "INSERT INTO inspections (reference_code, site_name, address, inspector_name,"
                " scheduled_at) VALUES (:ref, 'Depot', '1 Quay Road', 'A. Inspector', :t0)"
                " RETURNING id"
            ),
            {"ref": reference, "t0": T0},
        ).scalar_one()
    )


def insert_item(conn: Connection, inspection_id: int, position: int) -> int:
    return int(
        conn.execute(
            text(
                "INSERT INTO checklist_items (inspection_id, section, position, title)"
                " VALUES (:inspection_id, 'Structure', :position, 'Check ' || :position)"
                " RETURNING id"
            ),
            {"inspection_id": inspection_id, "position": position},
        ).scalar_one()
    )


def insert_media(
    conn: Connection, item_id: int, captured_at: datetime, *, deleted: bool = False
) -> int:
    return int(
        conn.execute(
            text(
                "INSERT INTO media (inspection_id, checklist_item_id, storage_key, mime_type,"
                "                   width, height, byte_size, sha256, captured_at, deleted_at)"
                " SELECT ci.inspection_id, ci.id, 'photos/' || gen_random_uuid() || '.jpg',"
                "        'image/jpeg', 640, 480, 1234, repeat('a', 64), :captured_at,"
                "        CASE WHEN :deleted THEN now() END"
                "   FROM checklist_items AS ci WHERE ci.id = :item_id"
                " RETURNING id"
            ),
            {"item_id": item_id, "captured_at": captured_at, "deleted": deleted},
        ).scalar_one()
    )


def insert_small_inspection(conn: Connection, reference: str = "SMALL-1") -> tuple[int, list[int]]:
    """An inspection whose right media order differs from insertion and id order.

    Returns the inspection id and the ids of its non-deleted media in display order: item
    position, then captured_at, then media id.
    """
    inspection = insert_inspection(conn, reference)
    second = insert_item(conn, inspection, 2)  # inserted first, shown second
    first = insert_item(conn, inspection, 1)
    late = insert_media(conn, first, T0 + timedelta(minutes=5))
    tie_a = insert_media(conn, first, T0)
    tie_b = insert_media(conn, first, T0)  # same captured_at: id breaks the tie
    insert_media(conn, first, T0 - timedelta(minutes=1), deleted=True)
    other = insert_media(conn, second, T0 - timedelta(hours=1))  # earliest, but a later item
    # Another inspection's photo must not leak in.
    stranger_item = insert_item(conn, insert_inspection(conn, reference + "-OTHER"), 1)
    insert_media(conn, stranger_item, T0)
    return inspection, [tie_a, tie_b, late, other]


def log_count(conn: Connection, inspection_id: int) -> int:
    return int(
        conn.execute(
            text("SELECT count(*) FROM query_performance_log WHERE inspection_id = :id"),
            {"id": inspection_id},
        ).scalar_one()
    )


def batch_rows(conn: Connection, inspection_id: int) -> list[tuple[Any, ...]]:
    rows = conn.execute(
        text(f"SELECT * FROM {BATCH_FUNCTION}(:inspection_id)"), {"inspection_id": inspection_id}
    )
    return [tuple(r) for r in rows]


def flush_statistics(conn: Connection) -> None:
    """Make this backend's pending statistics visible to every session, without waiting.

    Counters are flushed when a backend goes idle, at most once a second unless forced; the
    forced flush happens right after the transaction that asked for it ends.
    """
    conn.execute(text("SELECT pg_stat_force_next_flush()"))
    conn.commit()


def checks_by_name(conn: Connection) -> dict[str, ValidationCheck]:
    return {c.check_name: c for c in validate_optimization(conn)}


def explain(conn: Connection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every node of the plan of `sql` (EXPLAIN (FORMAT JSON)), depth first."""
    plan = conn.execute(text("EXPLAIN (FORMAT JSON) " + sql), params).scalar_one()
    nodes: list[dict[str, Any]] = []
    stack = [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.get("Plans", []))
    return nodes


# --- schema snapshot ----------------------------------------------------------------------------

NOT_EXTENSION_MEMBER = (
    "NOT EXISTS (SELECT 1 FROM pg_depend AS d WHERE d.objid = {oid} AND d.deptype = 'e')"
)
SNAPSHOT_QUERIES = {
    "columns": (
        "SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),"
        "       a.attnotnull, a.attidentity, pg_get_expr(ad.adbin, ad.adrelid)"
        "  FROM pg_attribute AS a"
        "  JOIN pg_class AS c ON c.oid = a.attrelid"
        "  LEFT JOIN pg_attrdef AS ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum"
        " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'v', 'm')"
        "   AND a.attnum > 0 AND NOT a.attisdropped AND "
        + NOT_EXTENSION_MEMBER.format(oid="c.oid")
        + " ORDER BY 1, 2"
    ),
    "indexes": (
        "SELECT tablename, indexname, indexdef FROM pg_indexes"
        " WHERE schemaname = current_schema() ORDER BY 1, 2"
    ),
    "constraints": (
        "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)"
        "  FROM pg_constraint WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2"
    ),
    "sequences": (
        "SELECT sequencename, data_type::text, start_value, increment_by, cache_size"
        "  FROM pg_sequences WHERE schemaname = current_schema() ORDER BY 1"
    ),
    "functions": (
        "SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid)"
        "  FROM pg_proc AS p WHERE p.pronamespace = current_schema()::regnamespace"
        "   AND " + NOT_EXTENSION_MEMBER.format(oid="p.oid") + " ORDER BY 1"
    ),
}


def schema_snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Tables, columns, indexes, constraints, sequences and our own functions (not pg_trgm's)."""
    with engine.connect() as conn:
        return {
            kind: [tuple(r) for r in conn.execute(text(sql))]
            for kind, sql in SNAPSHOT_QUERIES.items()
        }


# --- the migration ------------------------------------------------------------------------------


def test_downgrade_and_upgrade_again_restore_the_same_schema(fresh_engine: Engine) -> None:
    upgrade(fresh_engine, "0001_schema")
    at_schema = schema_snapshot(fresh_engine)
    upgrade(fresh_engine)
    at_head = schema_snapshot(fresh_engine)
    assert {name for name, _ in at_head["functions"]} == {
        "get_inspection_media_batch(bigint)",
        "validate_optimization()",
        "verify_index_usage()",
        "analyze_query_performance(text,integer)",
        "review_records_append_only()",  # revision 0004_review
        "get_inspection_media_stream(bigint)",  # revision 0006_streamed_media
    }
    assert {spec.name for spec in EXPECTED_INDEXES} <= {i[1] for i in at_head["indexes"]}

    downgrade(fresh_engine, "0001_schema")
    assert schema_snapshot(fresh_engine) == at_schema
    upgrade(fresh_engine)
    assert schema_snapshot(fresh_engine) == at_head

    downgrade(fresh_engine, "base")
    upgrade(fresh_engine)
    assert schema_snapshot(fresh_engine) == at_head
    with fresh_engine.connect() as conn:
        assert current_revision(conn) == head_revision()


def _batch_items(engine: Engine, inspection: int) -> list[int]:
    with engine.connect() as conn:
        items = list(
            conn.execute(
                text(f"SELECT checklist_item_id FROM {BATCH_FUNCTION}(:i)"), {"i": inspection}
            ).scalars()
        )
        conn.rollback()  # the function logs its call
    return items


def test_revision_0003_orders_by_item_and_round_trips_up_down_up(fresh_engine: Engine) -> None:
    before, revision = "0002_performance_v1", "0003_batch_item_order"
    upgrade(fresh_engine, before)
    with fresh_engine.begin() as conn:
        inspection = insert_inspection(conn, "SHARED-1")
        c = insert_item(conn, inspection, 2)
        a, b = insert_item(conn, inspection, 1), insert_item(conn, inspection, 1)
        for minute, item in enumerate([a, b, a, b, a]):
            insert_media(conn, item, T0 + timedelta(minutes=minute))
        insert_media(conn, c, T0 - timedelta(hours=1))
    at_0002 = schema_snapshot(fresh_engine)
    # Revision 0002's order: the photos of A and B, both at position 1, interleave.
    assert _batch_items(fresh_engine, inspection) == [a, b, a, b, a, c]

    upgrade(fresh_engine, revision)
    with fresh_engine.connect() as conn:
        assert current_revision(conn) == revision
    at_head = schema_snapshot(fresh_engine)
    assert at_head["functions"] != at_0002["functions"]
    assert {k: v for k, v in at_head.items() if k != "functions"} == {
        k: v for k, v in at_0002.items() if k != "functions"
    }, "0003 changes the batch function only"
    assert _batch_items(fresh_engine, inspection) == [a, a, a, b, b, c]

    downgrade(fresh_engine, before)
    with fresh_engine.connect() as conn:
        assert current_revision(conn) == before
    assert schema_snapshot(fresh_engine) == at_0002
    assert _batch_items(fresh_engine, inspection) == [a, b, a, b, a, c]

    upgrade(fresh_engine, revision)
    assert schema_snapshot(fresh_engine) == at_head
    assert _batch_items(fresh_engine, inspection) == [a, a, a, b, b, c]
    with fresh_engine.connect() as conn:
        analyze_tables(conn)
        checks = validate_optimization(conn)
        conn.commit()
    assert [check for check in checks if not check.passed] == []


def test_rerun_after_a_failed_concurrent_build_replaces_the_invalid_index(
    fresh_engine: Engine,
) -> None:
    upgrade(fresh_engine)
    at_head = schema_snapshot(fresh_engine)
    name = "ix_checklist_items_inspection_position"
    with fresh_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        inspection = insert_inspection(conn, "DUP-1")
        insert_item(conn, inspection, 1)
        insert_item(conn, inspection, 1)
        conn.execute(text(f"DROP INDEX {name}"))
        # What a build that failed half way leaves behind: an INVALID index of the same name.
        with pytest.raises(IntegrityError):
            conn.execute(
                text(
                    f"CREATE UNIQUE INDEX CONCURRENTLY {name}"
                    " ON checklist_items (inspection_id, position)"
                )
            )
        conn.execute(text("ANALYZE"))  # so only the index checks can fail
        assert (
            conn.execute(
                text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:n)"),
                {"n": name},
            ).scalar_one()
            is False
        )
        check = checks_by_name(conn)[f"index {name}"]
        assert check.status == "fail"
        assert "INVALID" in check.detail
        assert f"DROP INDEX CONCURRENTLY {name}" in check.detail
        # The migration failed at that index, so alembic_version still names the old revision.
        conn.execute(text("UPDATE alembic_version SET version_num = '0001_schema'"))

    upgrade(fresh_engine)

    assert schema_snapshot(fresh_engine) == at_head
    with fresh_engine.connect() as conn:
        assert all(c.passed for c in validate_optimization(conn)), validate_optimization(conn)


# --- validate_optimization ----------------------------------------------------------------------


def analyze_tables(conn: Connection) -> None:
    conn.execute(text("ANALYZE " + ", ".join(OPTIMIZED_TABLES)))


def test_validation_passes_on_a_migrated_and_analyzed_database(db_conn: Connection) -> None:
    analyze_tables(db_conn)

    checks = validate_optimization(db_conn)

    assert [c for c in checks if not c.passed] == []
    assert [c.check_name for c in checks] == [
        *sorted(f"index {spec.name}" for spec in EXPECTED_INDEXES),
        "function get_inspection_media_batch",
        "function get_inspection_media_stream",  # revision 0007_validate_stream
        "extension pg_trgm",
        "extension pg_stat_statements",
        *(f"statistics {table}" for table in OPTIMIZED_TABLES),
    ]
    assert all(c.status in ("pass", "fail") and c.detail for c in checks)


def test_a_missing_index_fails_only_its_own_check(db_conn: Connection) -> None:
    analyze_tables(db_conn)
    db_conn.execute(text("DROP INDEX ix_media_inspection_display"))

    failed = [c for c in validate_optimization(db_conn) if not c.passed]

    assert [c.check_name for c in failed] == ["index ix_media_inspection_display"]
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_media_inspection_display" in failed[0].detail


def test_validation_works_for_a_role_that_cannot_read_server_settings(
    db_conn: Connection,
) -> None:
    # shared_preload_libraries is hidden from ordinary roles; the check must still answer.
    analyze_tables(db_conn)
    db_conn.execute(text("CREATE ROLE perf_viewer_probe NOLOGIN"))
    # A role that reads the photos, as the app's does (the stream check needs it).
    db_conn.execute(text("GRANT SELECT ON media, checklist_items TO perf_viewer_probe"))
    db_conn.execute(text("SET LOCAL ROLE perf_viewer_probe"))
    assert (
        db_conn.execute(
            text("SELECT count(*) FROM pg_settings WHERE name = 'shared_preload_libraries'")
        ).scalar_one()
        == 0
    )

    assert [c for c in validate_optimization(db_conn) if not c.passed] == []

    db_conn.execute(text("RESET ROLE"))
    db_conn.execute(text("REVOKE SELECT ON pg_stat_statements FROM PUBLIC"))
    db_conn.execute(text("SET LOCAL ROLE perf_viewer_probe"))
    failed = [c for c in validate_optimization(db_conn) if not c.passed]
    assert [c.check_name for c in failed] == ["extension pg_stat_statements"]
    assert "GRANT pg_read_all_settings TO perf_viewer_probe" in failed[0].detail


def test_many_changes_since_analyze_fail_the_statistics_check(fresh_engine: Engine) -> None:
    # Statistics counters only count committed changes, so this needs a database of its own.
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        for table in OPTIMIZED_TABLES:  # no autovacuum ANALYZE racing the assertions
            conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
        insert_dataset(conn, inspections=2, items_per_inspection=10, media_per_item=5)
        # Committed and flushed before ANALYZE: changes made in ANALYZE's own transaction, or
        # flushed after it, count as changes since it.
        flush_statistics(conn)
        analyze_tables(conn)
        conn.commit()
        assert checks_by_name(conn)["statistics media"].passed
        conn.commit()

        insert_dataset(
            conn, inspections=2, items_per_inspection=10, media_per_item=5, prefix="MORE"
        )
        flush_statistics(conn)
        checks = checks_by_name(conn)
        conn.commit()

        media = checks["statistics media"]
        assert media.status == "fail"
        assert "last analyzed" in media.detail
        assert "100 rows changed since (limit 70), 200 live rows" in media.detail
        assert "run ANALYZE media" in media.detail
        assert checks["statistics inspections"].passed  # 2 changes, well under the limit

        conn.execute(text("ANALYZE media"))
        conn.commit()
        assert checks_by_name(conn)["statistics media"].passed


# --- verify_index_usage -------------------------------------------------------------------------


def test_index_usage_lists_every_index_and_counts_scans(fresh_engine: Engine) -> None:
    # A database of its own: scan counters are cumulative and shared by every test of a database.
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        before = verify_index_usage(conn)
        all_indexes = conn.execute(
            text(
                "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = current_schema()"
                " AND tablename IN ('inspections', 'checklist_items', 'media',"
                " 'query_performance_log') ORDER BY 1, 2"
            )
        ).all()
        conn.commit()
        assert [(u.table_name, u.index_name) for u in before] == [tuple(r) for r in all_indexes]
        assert {spec.name for spec in EXPECTED_INDEXES} <= {u.index_name for u in before}
        assert {(u.used, u.idx_scan) for u in before} == {("no", 0)}
        assert all(u.index_size_bytes > 0 and u.index_size for u in before)

        conn.execute(text("SET enable_seqscan = off"))  # empty tables: force the index path
        conn.execute(text(BATCH_QUERY_SQL), {"inspection_id": 1}).all()
        flush_statistics(conn)
        after = {u.index_name: u for u in verify_index_usage(conn)}
        conn.commit()

    assert after["ix_media_inspection_display"].used == "yes"
    assert after["ix_media_inspection_display"].idx_scan >= 1
    assert after["ix_inspections_search_trgm"].used == "no"


# --- analyze_query_performance ------------------------------------------------------------------


def test_query_performance_summarises_the_logged_calls(db_conn: Connection) -> None:
    inspection, _ = insert_small_inspection(db_conn)
    before = analyze_query_performance(db_conn)
    calls = 9

    for _ in range(calls):
        batch_rows(db_conn, inspection)
    stats = analyze_query_performance(db_conn)

    assert stats.function_name == BATCH_FUNCTION
    assert stats.calls == before.calls + calls
    assert stats.p50_ms is not None and stats.p95_ms is not None and stats.p99_ms is not None
    assert stats.max_ms is not None and stats.mean_ms is not None
    assert 0 <= stats.p50_ms <= stats.p95_ms <= stats.p99_ms <= stats.max_ms
    assert stats.mean_ms <= stats.max_ms


def test_query_performance_counts_only_the_window_and_the_function(db_conn: Connection) -> None:
    db_conn.execute(
        text(
            "INSERT INTO query_performance_log (function_name, called_at, duration_ms, row_count)"
            " VALUES ('perf_probe_fn', now() - interval '30 hours', 4.0, 1),"
            "        ('perf_probe_fn', now() - interval '1 hour', 2.0, 1)"
        )
    )

    day = analyze_query_performance(db_conn, "perf_probe_fn")
    two_days = analyze_query_performance(db_conn, "perf_probe_fn", hours=48)
    unknown = analyze_query_performance(db_conn, "no_such_function")

    assert (day.calls, day.max_ms, day.p50_ms) == (1, 2.0, 2.0)
    assert (two_days.calls, two_days.mean_ms, two_days.max_ms) == (2, 3.0, 4.0)
    assert unknown.function_name == "no_such_function"
    assert unknown.calls == 0
    assert unknown.mean_ms is unknown.p50_ms is unknown.p99_ms is unknown.max_ms is None


# --- get_inspection_media_batch -----------------------------------------------------------------


def test_batch_returns_non_deleted_media_in_display_order(db_conn: Connection) -> None:
    inspection, expected_ids = insert_small_inspection(db_conn)

    rows = batch_rows(db_conn, inspection)

    assert [r[0] for r in rows] == expected_ids
    assert [r[2] for r in rows] == [1, 1, 1, 2]  # item_position
    assert batch_rows(db_conn, -1) == []


def test_batch_function_and_batch_query_return_the_same_rows(db_conn: Connection) -> None:
    ids = insert_dataset(db_conn, inspections=3, items_per_inspection=6, media_per_item=4)
    small, _ = insert_small_inspection(db_conn)

    for inspection in [*ids, small]:
        function_rows = db_conn.execute(
            text(f"SELECT * FROM {BATCH_FUNCTION}(:inspection_id)"), {"inspection_id": inspection}
        )
        query_rows = db_conn.execute(text(BATCH_QUERY_SQL), {"inspection_id": inspection})
        assert list(function_rows.keys()) == list(query_rows.keys())
        assert [tuple(r) for r in function_rows] == [tuple(r) for r in query_rows]


@pytest.mark.parametrize(
    ("function", "query"),
    [(BATCH_FUNCTION, BATCH_QUERY_SQL), (STREAM_FUNCTION, STREAM_QUERY_SQL)],
)
def test_function_body_is_its_query_in_db_performance(
    db_conn: Connection, function: str, query: str
) -> None:
    # Catches an edit to one of the two that was not made to the other.
    definition = db_conn.execute(
        text(f"SELECT pg_get_functiondef('{function}(bigint)'::regprocedure)")
    ).scalar_one()

    def squash(sql: str) -> str:
        return re.sub(r"\s+", " ", sql).strip()

    assert squash(query.replace(":inspection_id", "p_inspection_id")) in squash(definition)


def test_stream_function_returns_the_batch_functions_rows(db_conn: Connection) -> None:
    # Revision 0006: the window loads through the stream function, bench and scripts through
    # the batch one; a deleted photo and an unknown inspection included.
    ids = insert_dataset(db_conn, inspections=3, items_per_inspection=6, media_per_item=4)
    small, _ = insert_small_inspection(db_conn)

    compared = 0
    for inspection in [*ids, small, -1]:
        batch = db_conn.execute(
            text(f"SELECT * FROM {BATCH_FUNCTION}(:inspection_id)"), {"inspection_id": inspection}
        )
        stream = db_conn.execute(
            text(f"SELECT * FROM {STREAM_FUNCTION}(:inspection_id)"), {"inspection_id": inspection}
        )
        query = db_conn.execute(text(STREAM_QUERY_SQL), {"inspection_id": inspection})
        assert list(stream.keys()) == list(batch.keys()) == list(query.keys())
        rows = [tuple(r) for r in batch]
        assert [tuple(r) for r in stream] == rows == [tuple(r) for r in query]
        compared += len(rows)
    assert compared > 4  # not all empty


def test_the_planner_inlines_the_stream_function(db_conn: Connection) -> None:
    """What lets the server send the first rows at once: a function it does not inline runs to
    completion into a tuplestore first (a Function Scan), as the PL/pgSQL batch function does.
    A SET clause, STRICT, VOLATILE or plpgsql on the stream function would bring that back."""
    inspection, _ = insert_small_inspection(db_conn)

    def node_types(function: str) -> set[str]:
        sql = f"SELECT * FROM {function}(CAST(:i AS bigint))"
        return {n["Node Type"] for n in explain(db_conn, sql, {"i": inspection})}

    assert "Function Scan" in node_types(BATCH_FUNCTION)
    assert "Function Scan" not in node_types(STREAM_FUNCTION)


def test_batch_call_logs_one_row_with_its_row_count(db_conn: Connection) -> None:
    inspection, expected_ids = insert_small_inspection(db_conn)

    batch_rows(db_conn, inspection)

    log = db_conn.execute(
        text(
            "SELECT function_name, row_count, duration_ms, called_at <= clock_timestamp()"
            "  FROM query_performance_log WHERE inspection_id = :id"
        ),
        {"id": inspection},
    ).all()
    assert len(log) == 1
    function_name, row_count, duration_ms, in_the_past = log[0]
    assert (function_name, row_count, in_the_past) == (BATCH_FUNCTION, len(expected_ids), True)
    assert duration_ms >= 0


def test_batch_in_a_read_only_transaction_returns_rows_and_logs_nothing(
    db_conn: Connection,
) -> None:
    inspection, expected_ids = insert_small_inspection(db_conn)
    # Going read-only is allowed mid-transaction (only going back to read-write is not).
    db_conn.execute(text("SET TRANSACTION READ ONLY"))

    rows = batch_rows(db_conn, inspection)

    assert [r[0] for r in rows] == expected_ids
    assert log_count(db_conn, inspection) == 0


def set_next_log_id(conn: Connection, *, multiple_of_500: bool) -> None:
    # Sequences ignore rollbacks; the shared database just skips some ids, which is harmless.
    last = conn.execute(text("SELECT last_value FROM query_performance_log_id_seq")).scalar_one()
    next_multiple = (last // 500 + 1) * 500
    conn.execute(
        text("SELECT setval('query_performance_log_id_seq', :value)"),
        {"value": next_multiple - 1 if multiple_of_500 else next_multiple},
    )


def test_every_500th_logged_call_prunes_rows_older_than_7_days(db_conn: Connection) -> None:
    inspection, _ = insert_small_inspection(db_conn)
    db_conn.execute(
        text(
            "INSERT INTO query_performance_log (function_name, called_at, duration_ms, row_count)"
            " VALUES ('old', now() - interval '8 days', 1, 1),"
            "        ('recent', now() - interval '6 days', 1, 1)"
        )
    )

    def remaining() -> list[str]:
        return list(
            db_conn.execute(
                text(
                    "SELECT function_name FROM query_performance_log"
                    " WHERE function_name IN ('old', 'recent') ORDER BY 1"
                )
            ).scalars()
        )

    set_next_log_id(db_conn, multiple_of_500=False)
    batch_rows(db_conn, inspection)
    assert remaining() == ["old", "recent"]

    set_next_log_id(db_conn, multiple_of_500=True)
    batch_rows(db_conn, inspection)
    assert remaining() == ["recent"]


# --- plans on a dataset of realistic shape ------------------------------------------------------


@pytest.fixture(scope="module")
def dataset_engine(create_database: Callable[[str], URL]) -> Iterator[tuple[Engine, list[int]]]:
    """A migrated database of its own with 60 inspections x 40 items x 5 photos, analyzed.

    Its own, because ANALYZE writes row estimates to pg_class outside the transaction: in the
    shared database they would survive the rollback and change other tests' plans.
    """
    engine = make_engine(create_database("perf"))
    upgrade(engine)
    with engine.connect() as conn:
        ids = insert_dataset(conn)
        conn.commit()
        analyze_tables(conn)
        conn.commit()
    yield engine, ids
    engine.dispose()


def test_batch_query_plan_uses_the_display_index(
    dataset_engine: tuple[Engine, list[int]],
) -> None:
    engine, ids = dataset_engine
    with engine.connect() as conn:
        nodes = explain(conn, BATCH_QUERY_SQL, {"inspection_id": ids[len(ids) // 2]})

    on_media = [
        n
        for n in nodes
        if n.get("Relation Name") == "media"
        or n.get("Index Name", "").startswith(("ix_media", "pk_media"))
    ]
    assert on_media, nodes
    assert not [n for n in on_media if n["Node Type"] == "Seq Scan"], nodes
    assert "ix_media_inspection_display" in {n.get("Index Name") for n in nodes}, nodes


@pytest.mark.parametrize(
    ("sql", "params", "index"),
    [
        (
            f"SELECT id FROM inspections WHERE {SEARCH_EXPRESSION} ILIKE :pattern",
            {"pattern": "%harbour street%"},
            "ix_inspections_search_trgm",
        ),
        (
            "SELECT id FROM inspections WHERE (scheduled_at, id) < (:at, :id)"
            " ORDER BY scheduled_at DESC, id DESC LIMIT 20",
            {"at": T0 + timedelta(days=30), "id": 10**9},
            "ix_inspections_scheduled_keyset",
        ),
        (
            "SELECT id FROM inspections WHERE status = 'completed'"
            " ORDER BY scheduled_at DESC, id DESC LIMIT 20",
            {},
            "ix_inspections_status_scheduled",
        ),
        (
            "SELECT id FROM checklist_items WHERE inspection_id = :id ORDER BY position",
            {"id": 1},
            "ix_checklist_items_inspection_position",
        ),
    ],
    ids=["search", "keyset", "status-keyset", "checklist"],
)
def test_list_queries_can_use_their_index(
    dataset_engine: tuple[Engine, list[int]], sql: str, params: dict[str, Any], index: str
) -> None:
    # 60 inspections are too few for the planner to prefer an index on its own; with sequential
    # scans priced out, an index is chosen only if the query matches its definition.
    engine, _ = dataset_engine
    with engine.connect() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        nodes = explain(conn, sql, params)

    assert index in {n.get("Index Name") for n in nodes}, nodes
