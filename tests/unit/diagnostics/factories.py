"""Shared builders for the diagnostics tests: SQL shapes, thumbnail counters, recorded actions."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from db.diagnostics import ThumbnailFigures
from db.metrics import QueryMetrics, StatementRecord

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


statement_lists = st.lists(
    st.tuples(
        st.sampled_from(["SELECT a FROM t WHERE id = %(p)s", "SELECT b FROM u", PER_ITEM_SQL]),
        st.sampled_from(["{'p': 1}", "{'p': 2}", "{}"]),
        st.floats(min_value=0, max_value=1, allow_nan=False),
    ),
    max_size=40,
)
