"""A media function the server streams: the first rows leave before the last are read.

Revision ID: 0006_streamed_media
Revises: 0005_batch_work_mem
Create Date: 2026-12-03

get_inspection_media_batch is PL/pgSQL. Its RETURN QUERY collects every row in a tuplestore
before the first one leaves the server, so streaming the result at the client (psycopg's
stream(), which the window uses) could not show anything sooner: the first row of a
20,000-photo inspection waited for all of them.

get_inspection_media_stream(bigint) returns the same rows in the same order, with the same
columns, and is a plain SQL function the planner inlines into the calling statement:
LANGUAGE sql, STABLE, no SET clause, not STRICT, not SECURITY DEFINER (each of those stops
inlining). It is still one statement per inspection. Its query reads the checklist items in
position order (ix_checklist_items_inspection_position) and each item's photos through
ix_media_inspection_display, so the server sorts only a run of photos at a time (an
Incremental Sort), not the whole inspection. The ORDER BY inside the LATERAL subquery keeps the
planner from flattening it back into the hash join and full sort.

Measured on the embedded server, bench gui's generated inspection, median of 15 calls,
psycopg stream() in chunks of 100 rows:

| inspection | function | first row | last row |
|---|---|---|---|
| 20,000 photos | get_inspection_media_batch | 28.9 ms | 93.6 ms |
| 20,000 photos | get_inspection_media_stream | 1.4 ms | 67.0 ms |
| 1,100 photos | get_inspection_media_batch | 3.9 ms | 8.6 ms |
| 1,100 photos | get_inspection_media_stream | 3.5 ms | 8.5 ms |

(the planner sorts 1,100 rows in one go: they fit in work_mem, and that plan is cheaper.)
The planner picks the plan by cost: on tables that were never analysed it may sort the whole
inspection, as the batch function always does (autovacuum analyses them; `bench gui` and the
tests do it themselves).

What the inlined function cannot do is write: it does not log its calls in
query_performance_log. The batch function is unchanged and keeps its log, for bench, scripts
and other clients; the window's loads show in the performance panel's own timings and, on the
server, in pg_stat_statements. Nor can it carry work_mem (a SET clause stops inlining), which
the streamed plan does not need: it sorts one run of photos at a time.

The downgrade drops the function; nothing in the schema depends on it.
"""

from __future__ import annotations

from alembic import op

revision = "0006_streamed_media"
down_revision = "0005_batch_work_mem"
branch_labels = None
depends_on = None

# Spelled out here, not imported from db.performance, so this revision stays as it was written
# when the application code moves on (db.performance.STREAM_QUERY_SQL is the same query, with
# :inspection_id for p_inspection_id; a test keeps the two equal).
CREATE_STREAM_FUNCTION = """
CREATE OR REPLACE FUNCTION get_inspection_media_stream(p_inspection_id bigint)
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
LANGUAGE sql STABLE
AS $fn$
SELECT m.media_id, ci.id AS checklist_item_id, ci.position AS item_position, m.storage_key,
       m.mime_type, m.width, m.height, m.byte_size, m.sha256, m.caption, m.captured_at
  FROM checklist_items AS ci
 CROSS JOIN LATERAL (
        SELECT m.id AS media_id, m.storage_key, m.mime_type, m.width, m.height, m.byte_size,
               m.sha256, m.caption, m.captured_at
          FROM media AS m
         WHERE m.checklist_item_id = ci.id
           AND m.inspection_id = p_inspection_id
           AND m.deleted_at IS NULL
         ORDER BY m.captured_at, m.id) AS m
 WHERE ci.inspection_id = p_inspection_id
 ORDER BY ci.position, ci.id, m.captured_at, m.media_id
$fn$
"""


def upgrade() -> None:
    op.execute(CREATE_STREAM_FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS get_inspection_media_stream(bigint)")
