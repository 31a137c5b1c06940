"""The bundle's SQLite database: its schema, how rows are written into it, and the check of it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from db.offline.format import FORMAT_VERSION, BundleCorruptError

# Timestamps are stored as UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff+00:00': fixed width, so text
# order is time order (ORDER BY captured_at stays right), and they parse back timezone-aware.
_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f+00:00"
APPLICATION_ID = 0x49564231  # "IVB1"

# The three tables of the schema with the columns the bundle keeps, in insert order. A test
# keeps them equal to db.models, so a schema change has to decide what it means for bundles.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "inspections": (
        "id",
        "reference_code",
        "site_name",
        "address",
        "inspector_name",
        "status",
        "scheduled_at",
        "completed_at",
        "created_at",
        "updated_at",
    ),
    "checklist_items": (
        "id",
        "inspection_id",
        "section",
        "position",
        "title",
        "result",
        "notes",
        "updated_at",
    ),
    "media": (
        "id",
        "inspection_id",
        "checklist_item_id",
        "storage_key",
        "mime_type",
        "width",
        "height",
        "byte_size",
        "sha256",
        "caption",
        "captured_at",
        "created_at",
        "deleted_at",
    ),
}

# Explicit DDL rather than metadata.create_all(): the file format must not change when a model
# does, and the PostgreSQL-only CHECK constraints mean nothing in a read-only copy. The indexes
# are the ones the app's queries use on PostgreSQL (db.performance.EXPECTED_INDEXES).
SCHEMA_SQL = f"""\
PRAGMA application_id = {APPLICATION_ID:#x};
PRAGMA user_version = {FORMAT_VERSION};
CREATE TABLE inspections (
    id INTEGER PRIMARY KEY,
    reference_code TEXT NOT NULL UNIQUE,
    site_name TEXT NOT NULL,
    address TEXT NOT NULL,
    inspector_name TEXT NOT NULL,
    status TEXT NOT NULL,
    scheduled_at TEXT NOT NULL,
    completed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE checklist_items (
    id INTEGER PRIMARY KEY,
    inspection_id INTEGER NOT NULL REFERENCES inspections (id),
    section TEXT NOT NULL,
    position INTEGER NOT NULL,
    title TEXT NOT NULL,
    result TEXT NOT NULL,
    notes TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE media (
    id INTEGER PRIMARY KEY,
    inspection_id INTEGER NOT NULL REFERENCES inspections (id),
    checklist_item_id INTEGER NOT NULL REFERENCES checklist_items (id),
    storage_key TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    byte_size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    caption TEXT,
    captured_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX ix_media_inspection_display
    ON media (inspection_id, checklist_item_id, captured_at, id) WHERE deleted_at IS NULL;
CREATE INDEX ix_media_checklist_item ON media (checklist_item_id);
CREATE INDEX ix_checklist_items_inspection_position ON checklist_items (inspection_id, position);
CREATE INDEX ix_inspections_scheduled_keyset ON inspections (scheduled_at DESC, id DESC);
"""


def encode_timestamp(value: datetime) -> str:
    """A timezone-aware datetime as the bundle stores it (UTC, fixed width)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: bundles store timezone-aware times only")
    return value.astimezone(UTC).strftime(_TIMESTAMP_FORMAT)


def write_database(path: Path, tables: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
    """Create the bundle's database at `path` with these rows (table name -> rows)."""
    con = sqlite3.connect(path)
    try:
        con.executescript(SCHEMA_SQL)
        for table, rows in tables.items():
            columns = TABLE_COLUMNS[table]
            con.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})",
                ([_sqlite_value(row[c]) for c in columns] for row in rows),
            )
        con.commit()
    finally:
        con.close()


def _sqlite_value(value: object) -> object:
    return encode_timestamp(value) if isinstance(value, datetime) else value


# What a database made from SCHEMA_SQL holds: its header ids and every schema object with its SQL.
_Schema = tuple[int, int, list[tuple[Any, ...]]]


# The check reads a handful of schema rows (about 200 SQLite VM steps); a hostile file with a
# huge schema is cut off here.
MAX_CHECK_STEPS = 1_000_000
_STEPS_PER_CALL = 100


def check_database(path: Path, bundle_name: str) -> None:
    """Refuse a database whose schema is not exactly SCHEMA_SQL's, before any query runs on it.

    The checksum only says the file is the one the manifest lists, and a hand-made bundle lists
    what it likes: views (a recursive one would never finish), triggers or other tables in place
    of ours are refused here, by reading the schema only. Blocking: off the GUI thread."""
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            calls = 0

            def bounded() -> int:
                nonlocal calls
                calls += 1
                return int(calls * _STEPS_PER_CALL > MAX_CHECK_STEPS)  # non-zero interrupts

            con.set_progress_handler(bounded, _STEPS_PER_CALL)
            actual = _schema_of(con)
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise BundleCorruptError(
            f"{bundle_name} is damaged: its database cannot be read ({exc})"
        ) from None
    if actual != _expected_schema():
        raise BundleCorruptError(
            f"{bundle_name} is damaged: its database does not have the tables of bundle format "
            f"{FORMAT_VERSION}"
        )


def _expected_schema() -> _Schema:
    con = sqlite3.connect(":memory:")
    try:
        con.executescript(SCHEMA_SQL)
        return _schema_of(con)
    finally:
        con.close()


def _schema_of(con: sqlite3.Connection) -> _Schema:
    # Reading sqlite_master runs nothing the file defines: views and triggers are only listed.
    con.execute("PRAGMA trusted_schema = OFF")
    application_id = con.execute("PRAGMA application_id").fetchone()[0]
    user_version = con.execute("PRAGMA user_version").fetchone()[0]
    objects = con.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    ).fetchall()
    return application_id, user_version, objects
