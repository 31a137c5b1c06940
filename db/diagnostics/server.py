"""The server's side on demand: batch function timings, index usage, EXPLAIN of the media
query, top statements."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.config import mask_password
from db.diagnostics.analysis import one_line
from db.diagnostics.figures import DIAGNOSTICS_KIND, ExplainFigures, ServerReport, TopStatement
from db.diagnostics.plan import plan_indexes, render_plan
from db.metrics import QueryMetrics
from db.performance import (
    BATCH_FUNCTION,
    STREAM_QUERY_SQL,
    IndexUsage,
    QueryPerformance,
    analyze_query_performance,
    verify_index_usage,
)

T = TypeVar("T")

OFFLINE_MESSAGE = (
    "Not available offline: an offline bundle is a read-only SQLite copy, "
    "there is no database server to ask."
)
# The tables and functions whose statements the server-side view lists (word boundaries, so
# "media" does not match "get_inspection_media_batch" twice).
OUR_STATEMENTS_PATTERN = (
    r"\m(inspections|checklist_items|media|get_inspection_media_(batch|stream))\M"
)
# Queries and changes only: not DDL, ANALYZE, nor the panel's own EXPLAIN (utility statements,
# which pg_stat_statements also tracks).
DML_PATTERN = r"^\s*(select|with|insert|update|delete)\M"


class ServerFeatureMissing(Exception):
    """A server-side view this server cannot give; the message says why and what to do."""


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return mask_password(lines[0]) if lines else type(orig).__name__


async def _section(conn: AsyncConnection, work: Awaitable[T]) -> tuple[T | None, str | None]:
    try:
        return await work, None
    except ServerFeatureMissing as exc:
        return None, str(exc)
    except sa_exc.SQLAlchemyError as exc:
        # Outside autocommit a failed statement aborts the transaction: the next part needs a
        # fresh one.
        if conn.in_transaction():
            await conn.rollback()
        return None, _reason(exc)


async def function_performance(
    conn: AsyncConnection, hours: int = 24
) -> tuple[QueryPerformance, ...]:
    """analyze_query_performance() of the batch function (the one function that logs itself)."""
    row = await conn.run_sync(lambda sync: analyze_query_performance(sync, BATCH_FUNCTION, hours))
    return (row,)


async def index_usage(conn: AsyncConnection) -> tuple[IndexUsage, ...]:
    return tuple(await conn.run_sync(verify_index_usage))


async def explain_media_query(
    conn: AsyncConnection, inspection_id: int, inspection: str = ""
) -> ExplainFigures:
    """EXPLAIN (ANALYZE, BUFFERS) of the query the window loads an inspection's media with
    (the stream function's, which the planner inlines) for one inspection."""
    result = await conn.execute(
        text("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + STREAM_QUERY_SQL),
        {"inspection_id": inspection_id},
    )
    document = result.scalar_one()
    top = document[0] if isinstance(document, list) else document
    plan = top["Plan"]
    return ExplainFigures(
        inspection_id=inspection_id,
        inspection=inspection or str(inspection_id),
        plan=render_plan(top),
        indexes=plan_indexes(plan),
        planning_ms=float(top.get("Planning Time", 0.0)),
        execution_ms=float(top.get("Execution Time", 0.0)),
        shared_hit=int(plan.get("Shared Hit Blocks", 0)),
        shared_read=int(plan.get("Shared Read Blocks", 0)),
    )


async def top_statements(conn: AsyncConnection, limit: int = 10) -> tuple[TopStatement, ...]:
    """pg_stat_statements' statements on our tables in this database, by total time."""
    schema = (
        await conn.execute(
            text(
                "SELECT extnamespace::regnamespace::text FROM pg_extension"
                " WHERE extname = 'pg_stat_statements'"
            )
        )
    ).scalar_one_or_none()
    if schema is None:
        raise ServerFeatureMissing(
            "pg_stat_statements is not installed in this database: a superuser can run "
            "CREATE EXTENSION pg_stat_statements (the server also needs it in "
            "shared_preload_libraries)."
        )
    view = conn.dialect.identifier_preparer.quote(schema) + ".pg_stat_statements"
    try:
        result = await conn.execute(
            text(
                "SELECT query, calls, total_exec_time, mean_exec_time, rows,"
                " shared_blks_hit, shared_blks_read"
                f" FROM {view}"
                " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND query ~* :ours AND query ~* :dml AND query !~* 'pg_stat_statements'"
                " ORDER BY total_exec_time DESC LIMIT :limit"
            ),
            {"ours": OUR_STATEMENTS_PATTERN, "dml": DML_PATTERN, "limit": limit},
        )
    except sa_exc.DBAPIError as exc:
        if conn.in_transaction():
            await conn.rollback()
        raise ServerFeatureMissing(
            f"pg_stat_statements is installed but cannot be read: {_reason(exc)}"
        ) from exc
    return tuple(
        TopStatement(
            query=one_line(r.query),
            calls=int(r.calls),
            total_ms=float(r.total_exec_time),
            mean_ms=float(r.mean_exec_time),
            rows=int(r.rows),
            shared_hit=int(r.shared_blks_hit),
            shared_read=int(r.shared_blks_read),
        )
        for r in result
    )


async def server_report(
    conn: AsyncConnection,
    metrics: QueryMetrics,
    *,
    inspection_id: int | None = None,
    inspection: str = "",
    hours: int = 24,
    top: int = 10,
) -> ServerReport:
    """Every server-side view, in a metrics scope of its own that counts for nothing."""
    if conn.dialect.name != "postgresql":
        return ServerReport.unavailable(OFFLINE_MESSAGE)
    started = time.perf_counter()
    with metrics.action(DIAGNOSTICS_KIND, counted=False) as scope:
        functions, functions_error = await _section(conn, function_performance(conn, hours))
        indexes, indexes_error = await _section(conn, index_usage(conn))
        explain: ExplainFigures | None = None
        explain_error: str | None = "Select an inspection to explain its media query."
        if inspection_id is not None:
            explain, explain_error = await _section(
                conn, explain_media_query(conn, inspection_id, inspection)
            )
        statements, top_error = await _section(conn, top_statements(conn, top))
    return ServerReport(
        available=True,
        taken_at=time.time(),
        functions=functions or (),
        functions_error=functions_error,
        indexes=indexes or (),
        indexes_error=indexes_error,
        explain=explain,
        explain_error=explain_error,
        top=statements or (),
        top_error=top_error,
        statements=len(scope.statements),
        duration_ms=(time.perf_counter() - started) * 1000,
    )


async def engine_server_report(
    engine: AsyncEngine,
    metrics: QueryMetrics,
    *,
    inspection_id: int | None = None,
    inspection: str = "",
) -> ServerReport:
    """server_report() on a connection of `engine`; a server that cannot be reached becomes a
    report saying so, and an offline (SQLite) engine is never asked anything."""
    if engine.dialect.name != "postgresql":
        return ServerReport.unavailable(OFFLINE_MESSAGE)
    try:
        # The scope also holds whatever connecting runs, so none of it counts as a user action.
        with metrics.action(DIAGNOSTICS_KIND, counted=False):
            async with engine.connect() as conn:
                return await server_report(
                    conn, metrics, inspection_id=inspection_id, inspection=inspection
                )
    except (sa_exc.SQLAlchemyError, OSError) as exc:
        return ServerReport.unavailable(f"The database server could not be asked: {_reason(exc)}")
