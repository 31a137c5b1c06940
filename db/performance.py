"""The performance migration's database functions (health checks, index usage, timings), typed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

# The batch function logs each call in query_performance_log; PL/pgSQL, so the server sends
# its first row only when it has them all. The stream function (revision 0006) returns the
# same rows, is inlined into the calling statement and streams from the first row, but cannot
# log. The window loads through the stream function; bench and scripts call the batch one.
BATCH_FUNCTION = "get_inspection_media_batch"
STREAM_FUNCTION = "get_inspection_media_stream"


@dataclass(frozen=True)
class IndexSpec:
    """An index revision 0002_performance_v1 creates, and the query it exists for."""

    name: str
    table: str
    purpose: str


EXPECTED_INDEXES: tuple[IndexSpec, ...] = (
    IndexSpec(
        "ix_media_inspection_display",
        "media",
        "batch load of one inspection's non-deleted media (partial: deleted_at IS NULL)",
    ),
    IndexSpec(
        "ix_media_checklist_item",
        "media",
        "per-item media fallback path, and ON DELETE CASCADE from checklist_items",
    ),
    IndexSpec(
        "ix_checklist_items_inspection_position",
        "checklist_items",
        "an inspection's checklist in position order",
    ),
    IndexSpec(
        "ix_inspections_scheduled_keyset",
        "inspections",
        "keyset paging of the inspection list by (scheduled_at DESC, id DESC)",
    ),
    IndexSpec(
        "ix_inspections_status_scheduled",
        "inspections",
        "status filter plus keyset paging of the inspection list",
    ),
    IndexSpec(
        "ix_inspections_search_trgm",
        "inspections",
        "search box: SEARCH_EXPRESSION ILIKE '%term%' (pg_trgm GIN)",
    ),
    IndexSpec(
        "ix_query_performance_log_function_time",
        "query_performance_log",
        "timings of one function over a time window, and retention pruning",
    ),
)

# The columns of ix_inspections_search_trgm's expression, in its order.
SEARCH_COLUMNS = ("reference_code", "site_name", "address")


def search_expression(table: str | None = None) -> str:
    """The expression of ix_inspections_search_trgm, its columns qualified by `table` if given.

    Write searches exactly as `{search_expression()} ILIKE :pattern`, or the planner cannot match
    the index's expression and falls back to a sequential scan.
    """
    prefix = f"{table}." if table else ""
    return "(" + " || ' ' || ".join(prefix + column for column in SEARCH_COLUMNS) + ")"


SEARCH_EXPRESSION = search_expression()

# The body of get_inspection_media_batch() (as revision 0003_batch_item_order defines it) as a
# standalone query, for EXPLAIN and for tests that keep the two equal; it runs without the
# function's timing log. The item id breaks ties between items that share a position, so each
# item's photos are contiguous.
BATCH_QUERY_SQL = """\
SELECT m.id AS media_id, m.checklist_item_id, ci.position AS item_position, m.storage_key,
       m.mime_type, m.width, m.height, m.byte_size, m.sha256, m.caption, m.captured_at
  FROM media AS m
  JOIN checklist_items AS ci ON ci.id = m.checklist_item_id
 WHERE m.inspection_id = :inspection_id
   AND ci.inspection_id = :inspection_id
   AND m.deleted_at IS NULL
 ORDER BY ci.position, m.checklist_item_id, m.captured_at, m.id"""

# The body of get_inspection_media_stream() (revision 0006_streamed_media): the same rows in the
# same order as BATCH_QUERY_SQL, read item by item in position order so that the server sorts
# one item's photos at a time and sends the first rows at once. The ORDER BY inside LATERAL
# keeps the planner from flattening the subquery back into a hash join and a full sort.
STREAM_QUERY_SQL = """\
SELECT m.media_id, ci.id AS checklist_item_id, ci.position AS item_position, m.storage_key,
       m.mime_type, m.width, m.height, m.byte_size, m.sha256, m.caption, m.captured_at
  FROM checklist_items AS ci
 CROSS JOIN LATERAL (
        SELECT m.id AS media_id, m.storage_key, m.mime_type, m.width, m.height, m.byte_size,
               m.sha256, m.caption, m.captured_at
          FROM media AS m
         WHERE m.checklist_item_id = ci.id
           AND m.inspection_id = :inspection_id
           AND m.deleted_at IS NULL
         ORDER BY m.captured_at, m.id) AS m
 WHERE ci.inspection_id = :inspection_id
 ORDER BY ci.position, ci.id, m.captured_at, m.media_id"""


@dataclass(frozen=True)
class ValidationCheck:
    """One row of validate_optimization(): an index, function, extension or table statistics."""

    check_name: str
    status: str
    detail: str

    @property
    def passed(self) -> bool:
        return self.status == "pass"


@dataclass(frozen=True)
class IndexUsage:
    """Scan counters of one index since statistics were last reset (pg_stat_user_indexes)."""

    index_name: str
    table_name: str
    idx_scan: int
    idx_tup_read: int
    index_size_bytes: int
    index_size: str
    used: str  # 'yes' when idx_scan > 0, else 'no', as the SQL function says it


@dataclass(frozen=True)
class QueryPerformance:
    """Timings of one logged function; the statistics are None when it had no calls."""

    function_name: str
    calls: int
    mean_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None


def validate_optimization(conn: Connection) -> list[ValidationCheck]:
    rows = conn.execute(text("SELECT check_name, status, detail FROM validate_optimization()"))
    return [ValidationCheck(r.check_name, r.status, r.detail) for r in rows]


def verify_index_usage(conn: Connection) -> list[IndexUsage]:
    rows = conn.execute(
        text(
            "SELECT index_name, table_name, idx_scan, idx_tup_read, index_size_bytes,"
            " index_size, used FROM verify_index_usage()"
        )
    )
    return [
        IndexUsage(
            index_name=r.index_name,
            table_name=r.table_name,
            idx_scan=r.idx_scan,
            idx_tup_read=r.idx_tup_read,
            index_size_bytes=r.index_size_bytes,
            index_size=r.index_size,
            used=r.used,
        )
        for r in rows
    ]


def analyze_query_performance(
    conn: Connection, function: str = BATCH_FUNCTION, hours: int = 24
) -> QueryPerformance:
    row = conn.execute(
        text(
            "SELECT function_name, calls, mean_ms, p50_ms, p95_ms, p99_ms, max_ms"
            " FROM analyze_query_performance(:function, :hours)"
        ),
        {"function": function, "hours": hours},
    ).one()
    return QueryPerformance(
        function_name=row.function_name,
        calls=row.calls,
        mean_ms=row.mean_ms,
        p50_ms=row.p50_ms,
        p95_ms=row.p95_ms,
        p99_ms=row.p99_ms,
        max_ms=row.max_ms,
    )
