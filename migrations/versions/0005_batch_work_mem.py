"""The batch media function sorts and holds its rows in memory: work_mem 32 MB while it runs.

Revision ID: 0005_batch_work_mem
Revises: 0004_review
Create Date: 2026-12-03

get_inspection_media_batch is PL/pgSQL, and RETURN QUERY collects every row before the first
one leaves the server, after sorting them into display order. So the first rows of an
inspection wait for all of it. With the server's default work_mem (4 MB), the sort of a
20,000-photo inspection (4.5 MB) spilled to disk as an external merge. Measured on the
embedded server (`bench gui`'s generated inspection):
- EXPLAIN ANALYZE of the function's query: 43 ms before, 26 ms after;
- the first row at the client: 37 ms before, 28 ms after (median of 15 calls);
- 1,100 photos: 3 ms before and after (that sort fits in 4 MB).

The SET clause applies only while the function runs; PostgreSQL restores the caller's value
when it returns. work_mem is a limit per sort or hash, not an allocation: a call takes about
what its rows need, so 32 MB means inspections up to about 140,000 photos stay in memory.
Each concurrent call of that size holds its memory until it returns.

The function's body is unchanged (0003's). The downgrade removes the setting.
"""

from __future__ import annotations

from alembic import op

revision = "0005_batch_work_mem"
down_revision = "0004_review"
branch_labels = None
depends_on = None

FUNCTION = "get_inspection_media_batch(bigint)"
WORK_MEM = "32MB"


def upgrade() -> None:
    op.execute(f"ALTER FUNCTION {FUNCTION} SET work_mem = '{WORK_MEM}'")


def downgrade() -> None:
    op.execute(f"ALTER FUNCTION {FUNCTION} RESET work_mem")
