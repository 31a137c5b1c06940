"""The server's side: EXPLAIN plans rendered like PostgreSQL's text, and the offline guard."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import create_async_engine

from db.diagnostics import (
    OFFLINE_MESSAGE,
    ServerReport,
    engine_server_report,
    plan_indexes,
    render_plan,
    server_report,
)
from db.metrics import QueryMetrics

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
