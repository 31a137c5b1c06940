"""Generating the demo: photos into the media store, then every row in one transaction."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, text

from db.demo.planner import Planner
from db.demo.pool import ensure_photo_pool, write_bad_files
from db.demo.rows import Rows
from db.demo.spec import (
    DEFAULT_SPEC,
    LARGE_INSPECTION_REFERENCE,
    DemoDataExists,
    DemoSpec,
    DemoSummary,
)
from db.models import Base
from db.progress import ProgressCallback, no_progress
from db.storage import MediaStore, StoreReadOnly

_INSERT_CHUNK = 1000
_TABLES = ("inspections", "checklist_items", "media")


def database_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return not conn.execute(text("SELECT EXISTS (SELECT 1 FROM inspections)")).scalar_one()


def clear_data(engine: Engine) -> None:
    """Empty the three tables and restart their ids. Photo files stay (they are reused)."""
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE media, checklist_items, inspections RESTART IDENTITY CASCADE"))


def generate_demo(
    engine: Engine,
    store: MediaStore,
    spec: DemoSpec = DEFAULT_SPEC,
    progress: ProgressCallback = no_progress,
) -> DemoSummary:
    """Fill an empty, migrated database with the demo dataset and write its photos to `store`.

    Blocking (call it off the GUI thread). The rows go in one transaction: an exception,
    including one raised by `progress` to cancel, leaves the database as it was.
    """
    started = time.perf_counter()
    if not database_is_empty(engine):
        raise DemoDataExists(
            "the database already holds inspections; clear it first (demo --reset) to load the demo"
        )
    if not store.writable:
        raise StoreReadOnly("", f"the demo cannot write its photos to {store.display}")
    root_rng = random.Random(spec.seed)
    rows_seed = root_rng.getrandbits(64)
    photos_seed = root_rng.getrandbits(64)

    pool = ensure_photo_pool(store, spec, photos_seed, progress)
    bad_bytes = write_bad_files(store, pool)

    progress("Planning inspections", 0, 1)
    rows = Planner(random.Random(rows_seed), spec, pool).build()
    progress("Planning inspections", 1, 1)

    _write_rows(engine, rows, progress)

    return DemoSummary(
        inspections=len(rows.inspections),
        checklist_items=len(rows.items),
        media=len(rows.media),
        image_files=len(pool),
        bad_media=rows.bad_media,
        soft_deleted=rows.soft_deleted,
        bytes_on_disk=sum(p.byte_size for p in pool) + bad_bytes,
        large_reference=LARGE_INSPECTION_REFERENCE,
        seconds=time.perf_counter() - started,
    )


def _insert(
    conn: Connection,
    table_name: str,
    rows: Sequence[dict[str, Any]],
    label: str,
    report: ProgressCallback,
) -> None:
    table: Table = Base.metadata.tables[table_name]
    report(label, 0, len(rows))
    for start in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[start : start + _INSERT_CHUNK]
        conn.execute(insert(table), list(chunk))
        report(label, start + len(chunk), len(rows))


# A backend reports its row counts when it goes idle, at most once a second: left to that, the
# inserts would be counted after the ANALYZE below, as changes since it, and validation would
# then ask for another ANALYZE. Forced, they are in before the commit returns (PostgreSQL 15+;
# older servers reported them through the statistics collector, and there is no forcing it).
FORCE_STATISTICS_FLUSH = """
DO $$
BEGIN
    IF to_regproc('pg_stat_force_next_flush') IS NOT NULL THEN
        PERFORM pg_stat_force_next_flush();
    END IF;
END
$$"""


def _write_rows(engine: Engine, rows: Rows, progress: ProgressCallback) -> None:
    """All rows in one transaction, then fresh statistics for the planner."""
    with engine.begin() as conn:
        # Serialises two generators racing on one database; the emptiness check then holds.
        conn.execute(text("LOCK TABLE inspections IN SHARE ROW EXCLUSIVE MODE"))
        if conn.execute(text("SELECT EXISTS (SELECT 1 FROM inspections)")).scalar_one():
            raise DemoDataExists("the database already holds inspections")
        _insert(conn, "inspections", rows.inspections, "Writing inspections", progress)
        _insert(conn, "checklist_items", rows.items, "Writing checklist items", progress)
        _insert(conn, "media", rows.media, "Writing photo records", progress)
        for table in _TABLES:
            # Ids were given explicitly: move the identity on so later inserts do not collide.
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
            )
        conn.execute(text(FORCE_STATISTICS_FLUSH))
    progress("Updating statistics", 0, 1)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE inspections, checklist_items, media"))
    progress("Updating statistics", 1, 1)
