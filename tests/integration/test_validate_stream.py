"""Revision 0007: validate_optimization() tells a DBA when the window's load stops streaming.

The window loads through get_inspection_media_stream(bigint); its first rows leave the server
at once only while the planner inlines it. These tests change the function as a DBA might by
hand and check the validation says so, and how to undo it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, Engine, text

from db.migrate import current_revision, downgrade, upgrade
from db.performance import STREAM_FUNCTION, ValidationCheck, validate_optimization

STREAM_CHECK = "function get_inspection_media_stream"
SIGNATURE = f"{STREAM_FUNCTION}(bigint)"
UNDO = "STABLE CALLED ON NULL INPUT SECURITY INVOKER RESET ALL"


def analyzed_checks(conn: Connection) -> list[ValidationCheck]:
    conn.execute(text("ANALYZE inspections, checklist_items, media"))
    return validate_optimization(conn)


def failed(conn: Connection) -> dict[str, str]:
    return {c.check_name: c.detail for c in analyzed_checks(conn) if not c.passed}


def test_the_stream_check_passes_after_the_batch_function_check(db_conn: Connection) -> None:
    checks = analyzed_checks(db_conn)

    names = [c.check_name for c in checks]
    assert names[names.index("function get_inspection_media_batch") + 1] == STREAM_CHECK
    stream = checks[names.index(STREAM_CHECK)]
    assert stream.passed
    assert "inlined" in stream.detail


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("SET work_mem = '64MB'", "SET work_mem=64MB"),
        ("STRICT", "STRICT"),
        ("VOLATILE", "VOLATILE"),
        ("SECURITY DEFINER", "SECURITY DEFINER"),
    ],
)
def test_a_change_that_stops_inlining_fails_only_the_stream_check(
    db_conn: Connection, change: str, named: str
) -> None:
    db_conn.execute(text(f"ALTER FUNCTION {SIGNATURE} {change}"))

    failures = failed(db_conn)

    assert list(failures) == [STREAM_CHECK]
    assert f"not inlined by the planner ({named})" in failures[STREAM_CHECK]
    assert failures[STREAM_CHECK].endswith(f"ALTER FUNCTION {SIGNATURE} {UNDO}")


def test_the_statement_the_detail_gives_makes_it_pass_again(db_conn: Connection) -> None:
    db_conn.execute(
        text(f"ALTER FUNCTION {SIGNATURE} STRICT VOLATILE SECURITY DEFINER SET work_mem = '8MB'")
    )
    detail = failed(db_conn)[STREAM_CHECK]
    assert "(VOLATILE, STRICT, SECURITY DEFINER, SET work_mem=8MB)" in detail

    db_conn.execute(text(detail[detail.index("ALTER FUNCTION") :]))

    assert failed(db_conn) == {}


def test_a_missing_stream_function_fails_its_check(db_conn: Connection) -> None:
    db_conn.execute(text(f"DROP FUNCTION {SIGNATURE}"))

    failures = failed(db_conn)

    assert list(failures) == [STREAM_CHECK]
    assert "missing: run the migrations" in failures[STREAM_CHECK]


def test_a_role_that_cannot_read_the_photos_is_told_so(db_conn: Connection) -> None:
    db_conn.execute(text("ANALYZE inspections, checklist_items, media"))
    db_conn.execute(text("CREATE ROLE stream_probe NOLOGIN"))
    db_conn.execute(text("SET LOCAL ROLE stream_probe"))

    failures = {c.check_name: c.detail for c in validate_optimization(db_conn) if not c.passed}

    assert list(failures) == [STREAM_CHECK]
    assert "stream_probe may not call it or read the tables it reads" in failures[STREAM_CHECK]

    db_conn.execute(text("RESET ROLE"))
    db_conn.execute(text("GRANT SELECT ON media, checklist_items TO stream_probe"))
    db_conn.execute(text("SET LOCAL ROLE stream_probe"))
    assert [c for c in validate_optimization(db_conn) if not c.passed] == []


def test_revision_0007_round_trips_up_down_up(fresh_engine: Engine) -> None:
    before, revision = "0006_streamed_media", "0007_validate_stream"

    def check_names() -> list[str]:
        with fresh_engine.connect() as conn:
            return [c.check_name for c in validate_optimization(conn)]

    def definition() -> str:
        with fresh_engine.connect() as conn:
            sql = "SELECT pg_get_functiondef('validate_optimization()'::regprocedure)"
            return str(conn.execute(text(sql)).scalar_one())

    upgrade(fresh_engine, before)
    at_0006 = definition()
    assert STREAM_CHECK not in check_names()

    upgrade(fresh_engine, revision)
    with fresh_engine.connect() as conn:
        assert current_revision(conn) == revision
    at_0007 = definition()
    assert STREAM_CHECK in check_names()

    downgrade(fresh_engine, before)
    assert definition() == at_0006
    assert STREAM_CHECK not in check_names()

    upgrade(fresh_engine, revision)
    assert definition() == at_0007
