"""Review records on the real server: revision 0004 up and down, append-only history, the state
of an inspection in one statement (counted by the app and by pg_stat_statements)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from db.demo import LARGE_INSPECTION_REFERENCE
from db.engine import make_async_engine
from db.metrics import QueryMetrics
from db.migrate import current_revision, downgrade, upgrade
from db.review import (
    ReviewInputError,
    ReviewKind,
    ReviewRecord,
    append_review,
    database_identity,
    load_history,
    load_review_state,
    read_review_state,
)
from db.review.queries import row_values

T0 = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


def _tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).scalars()
        )


def test_revision_0004_round_trips_and_makes_a_new_identity(fresh_engine: Engine) -> None:
    upgrade(fresh_engine, "0003_batch_item_order")
    before = _tables(fresh_engine)
    upgrade(fresh_engine, "0004_review")
    with fresh_engine.connect() as conn:
        assert current_revision(conn) == "0004_review"
        first = database_identity(conn)
    assert first is not None
    assert _tables(fresh_engine) == before | {"review_records", "database_identity"}
    downgrade(fresh_engine, "0003_batch_item_order")
    assert _tables(fresh_engine) == before
    with fresh_engine.connect() as conn:
        assert database_identity(conn) is None
        assert (
            conn.execute(text("SELECT to_regproc('review_records_append_only')")).scalar() is None
        )
    upgrade(fresh_engine, "0004_review")
    with fresh_engine.connect() as conn:
        second = database_identity(conn)
    assert second is not None and second != first


def _ids(engine: Engine) -> tuple[int, int, int]:
    """(inspection, checklist item, photo) of the demo's large inspection."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT m.inspection_id, m.checklist_item_id, m.id FROM media AS m"
                " JOIN inspections AS i ON i.id = m.inspection_id"
                " WHERE i.reference_code = :ref AND m.deleted_at IS NULL"
                " ORDER BY m.id LIMIT 1"
            ),
            {"ref": LARGE_INSPECTION_REFERENCE},
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


def test_records_are_append_only_and_checked_by_the_server(db_conn) -> None:  # type: ignore[no-untyped-def]
    rec = ReviewRecord.new(ReviewKind.INSPECTION, 1, value="approved", reviewer="R")
    with pytest.raises(ReviewInputError, match="not a item value"):
        ReviewRecord.new(ReviewKind.ITEM, 1, target=2, value="approved", reviewer="R")
    inspection = db_conn.execute(
        text(
            "INSERT INTO inspections (reference_code, site_name, address, inspector_name,"
            " scheduled_at) VALUES ('REV-1', 's', 'a', 'i', now()) RETURNING id"
        )
    ).scalar_one()
    values = {**row_values(rec), "inspection_id": inspection}
    db_conn.execute(
        text(
            "INSERT INTO review_records (id, kind, inspection_id, checklist_item_id, media_id,"
            " value, comment, reviewer, created_at, origin, conflict_with) VALUES (:id, :kind,"
            " :inspection_id, :checklist_item_id, :media_id, :value, :comment, :reviewer,"
            " :created_at, :origin, :conflict_with)"
        ),
        values,
    )
    with pytest.raises(DBAPIError, match="append-only"), db_conn.begin_nested():
        db_conn.execute(text("UPDATE review_records SET value = 'changes_requested'"))
    with pytest.raises(IntegrityError), db_conn.begin_nested():
        db_conn.execute(
            text(
                "INSERT INTO review_records (id, kind, inspection_id, value, reviewer, created_at)"
                " VALUES (gen_random_uuid(), 'inspection', :i, 'accepted', 'R', now())"
            ),
            {"i": inspection},
        )


@pytest.fixture
def review_cleanup(demo_db):  # type: ignore[no-untyped-def]
    """Review tests write through the app's own committing path; their records go afterwards
    (as the test's own: the demo stays as every other test expects it)."""
    made: list[str] = []
    yield made
    with demo_db.engine.begin() as conn:
        conn.execute(text("DELETE FROM review_records WHERE reviewer = ANY(:r)"), {"r": made})


def test_review_online_reload_history_intact_in_one_statement(  # type: ignore[no-untyped-def]
    demo_db, server_calls, review_cleanup
) -> None:
    engine = demo_db.engine
    inspection, item, photo = _ids(engine)
    reviewer = "Online Reviewer"
    review_cleanup.append(reviewer)
    records = [
        ReviewRecord.new(
            ReviewKind.ITEM,
            inspection,
            target=item,
            value="needs_rework",
            reviewer=reviewer,
            comment="Sealant missing",
            now=T0,
        ),
        ReviewRecord.new(
            ReviewKind.ITEM,
            inspection,
            target=item,
            value="accepted",
            reviewer=reviewer,
            now=T0 + timedelta(hours=1),
        ),
        ReviewRecord.new(
            ReviewKind.PHOTO, inspection, target=photo, value="unclear", reviewer=reviewer
        ),
        ReviewRecord.new(
            ReviewKind.INSPECTION,
            inspection,
            value="changes_requested",
            comment="See item",
            reviewer=reviewer,
        ),
    ]
    pattern = "%FROM review_records AS r WHERE r.inspection_id%"
    before = server_calls(engine, pattern)

    async def scenario() -> None:
        async_engine = make_async_engine(engine.url)
        metrics = QueryMetrics()
        metrics.instrument(async_engine.sync_engine)
        try:
            async with async_engine.connect() as conn:
                for rec in records:
                    await append_review(conn, rec)
                await append_review(conn, records[0])  # the same record again: no duplicate
            with metrics.action("load_review", inspection=inspection):
                async with async_engine.connect() as conn:
                    state = await load_review_state(conn, inspection)
            assert metrics.last("load_review").statement_count == 1  # type: ignore[union-attr]
            entry = state.item(item)
            assert entry is not None and entry.value == "accepted" and entry.versions == 2
            assert state.photo(photo).value == "unclear"  # type: ignore[union-attr]
            assert state.decision is not None and state.decision.record.comment == "See item"
            async with async_engine.connect() as conn:
                history = await load_history(conn, inspection, ReviewKind.ITEM, item)
            assert [(h.value, h.comment, h.reviewer, h.created_at) for h in history] == [
                ("needs_rework", "Sealant missing", reviewer, T0),
                ("accepted", None, reviewer, T0 + timedelta(hours=1)),
            ]
        finally:
            await async_engine.dispose()

    asyncio.run(scenario())
    assert server_calls(engine, pattern) - before == 1
    with engine.connect() as conn:  # a second reader (another window, the report) sees it all
        again = read_review_state(conn, inspection)
        assert again.item(item).versions == 2  # type: ignore[union-attr]
        assert (
            conn.execute(
                text("SELECT count(*) FROM review_records WHERE reviewer = :r"), {"r": reviewer}
            ).scalar_one()
            == 4
        )
