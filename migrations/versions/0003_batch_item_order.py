"""Batch media order breaks position ties by checklist item: items sharing a position stay whole.

Revision ID: 0003_batch_item_order
Revises: 0002_performance_v1
Create Date: 2027-01-11

get_inspection_media_batch ordered by (position, captured_at, id). Two checklist items of one
inspection may share a position (nothing forbids it), and then their photos came interleaved by
capture time, so a reader that groups consecutive rows by item saw one item as several fragments.
The order is now (position, checklist_item_id, captured_at, id): total, and each item's photos
are contiguous. The checklist query breaks the same ties by item id (db.media).

No index changes: ix_media_inspection_display (inspection_id, checklist_item_id, captured_at, id)
already holds the media side in this order, and the sort on the checklist item's position was
there before (EXPLAIN: the batch still reads media through that index, no sequential scan).

Position is deliberately NOT made unique per inspection:
- With the item id as tie-breaker a shared position is harmless: a stable, documented order.
- Making it unique means renumbering inspectors' existing checklists first, guessing which of
  two items comes first; no downgrade could restore the numbers they had.
- A unique (inspection_id, position) rejects the ordinary way of reordering a checklist (swap two
  positions in two UPDATEs) unless deferred, and rejects whole imports and offline bundles whose
  source numbered two items alike, where today they are simply shown.

Both function definitions are spelled out here (one template, two ORDER BY clauses), like 0002,
so this revision stays frozen when the application code moves on; the downgrade restores 0002's
definition exactly.
"""

from __future__ import annotations

from alembic import op

revision = "0003_batch_item_order"
down_revision = "0002_performance_v1"
branch_labels = None
depends_on = None

ORDER_BY = "ci.position, m.checklist_item_id, m.captured_at, m.id"
ORDER_BY_0002 = "ci.position, m.captured_at, m.id"

# 0002's CREATE_BATCH_FUNCTION, byte for byte, with its ORDER BY made a parameter.
_BATCH_FUNCTION = """
CREATE OR REPLACE FUNCTION get_inspection_media_batch(p_inspection_id bigint)
RETURNS TABLE (
    media_id bigint,
    checklist_item_id bigint,
    item_position integer,
    storage_key text,
    mime_type varchar,
    width integer,
    height integer,
    byte_size bigint,
    sha256 varchar,
    caption text,
    captured_at timestamptz
)
LANGUAGE plpgsql VOLATILE
AS $fn$
#variable_conflict use_column
DECLARE
    v_started timestamptz := clock_timestamp();
    v_rows integer;
    v_log_id bigint;
BEGIN
    -- The same SELECT as db.performance.BATCH_QUERY_SQL (a test keeps them equal).
    RETURN QUERY
    SELECT m.id AS media_id, m.checklist_item_id, ci.position AS item_position, m.storage_key,
           m.mime_type, m.width, m.height, m.byte_size, m.sha256, m.caption, m.captured_at
      FROM media AS m
      JOIN checklist_items AS ci ON ci.id = m.checklist_item_id
     WHERE m.inspection_id = p_inspection_id
       AND ci.inspection_id = p_inspection_id
       AND m.deleted_at IS NULL
     ORDER BY @ORDER_BY@;
    GET DIAGNOSTICS v_rows = ROW_COUNT;

    -- Read replicas and read-only transactions must still load media; they just are not logged.
    IF current_setting('transaction_read_only') = 'on' THEN
        RETURN;
    END IF;

    INSERT INTO query_performance_log AS l
           (function_name, called_at, duration_ms, row_count, inspection_id)
    VALUES ('get_inspection_media_batch', v_started,
            extract(epoch FROM clock_timestamp() - v_started)::double precision * 1000,
            v_rows, p_inspection_id)
    RETURNING l.id INTO v_log_id;

    -- Retention: every 500th log row (by identity value, so deterministic and free to test)
    -- prunes rows older than 7 days, at most 5000 at a time. Between two prunes at most ~500
    -- rows arrive, so the backlog always shrinks, and no single media load pays for a big purge.
    IF v_log_id % 500 = 0 THEN
        DELETE FROM query_performance_log AS old
         WHERE old.id IN (SELECT o.id
                            FROM query_performance_log AS o
                           WHERE o.called_at < now() - interval '7 days'
                           LIMIT 5000);
    END IF;
END
$fn$
"""


def _batch_function(order_by: str) -> str:
    return _BATCH_FUNCTION.replace("@ORDER_BY@", order_by)


def upgrade() -> None:
    # CREATE OR REPLACE keeps the function's oid, grants and dependants; the signature and the
    # returned columns are unchanged, only the order of the rows.
    op.execute(_batch_function(ORDER_BY))


def downgrade() -> None:
    op.execute(_batch_function(ORDER_BY_0002))
