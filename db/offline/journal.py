"""A bundle's review journal: the records written offline, in a SQLite file beside the bundle.

The bundle itself stays read-only (its photos and inspections are checked copies); what a
reviewer records goes to `<bundle>.review`, one SQLite transaction per record with a rollback
journal and synchronous=FULL, so a crash or `kill -9` leaves every committed record whole and
none half-written. Records are only ever appended; a sync adds its outcome per record and a
run record, never changing or removing a record. The file is untrusted on open like a bundle
(someone may have edited it): its schema must be exactly ours before any query runs on it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from db.errors import KnownError
from db.offline.format import DATABASE_NAME, Manifest
from db.offline.schema import encode_timestamp

JOURNAL_SUFFIX = ".review"
APPLICATION_ID = 0x49564A31  # "IVJ1"
JOURNAL_VERSION = 1
BUSY_TIMEOUT_MS = 5000
MAX_CHECK_STEPS = 1_000_000

# Outcomes a sync gives a record. Only "kept" (not pushed: its inspection was deleted or
# changed on the server) leaves a record waiting for the next sync.
PUSHED, ALREADY_THERE, CONFLICT, KEPT = "pushed", "already_there", "conflict", "kept"

SCHEMA_SQL = f"""\
PRAGMA application_id = {APPLICATION_ID:#x};
PRAGMA user_version = {JOURNAL_VERSION};
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    inspection_id INTEGER NOT NULL,
    checklist_item_id INTEGER,
    media_id INTEGER,
    value TEXT,
    comment TEXT,
    reviewer TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ix_records_inspection ON records (inspection_id, seq);
CREATE TABLE sync_runs (
    run INTEGER PRIMARY KEY AUTOINCREMENT,
    finished_at TEXT NOT NULL,
    target TEXT NOT NULL,
    pushed INTEGER NOT NULL,
    already_there INTEGER NOT NULL,
    conflicts INTEGER NOT NULL,
    kept INTEGER NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE outcomes (
    record_id TEXT PRIMARY KEY,
    run INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT,
    conflict_with TEXT
);
"""

RECORD_COLUMNS = (
    "id, kind, inspection_id, checklist_item_id, media_id, value, comment, reviewer, created_at"
)
# As db.review.queries.STATE_STATEMENT: the newest record per target, with its version count,
# and the conflict a sync found for it. One statement per inspection.
STATE_SQL = (
    "SELECT t.id, t.kind, t.inspection_id, t.checklist_item_id, t.media_id, t.value, t.comment,"
    " t.reviewer, t.created_at, 'bundle', o.conflict_with, t.versions FROM ("
    " SELECT r.*,"
    "  row_number() OVER (PARTITION BY kind, checklist_item_id, media_id ORDER BY seq DESC)"
    "   AS newest,"
    "  count(*) OVER (PARTITION BY kind, checklist_item_id, media_id) AS versions"
    " FROM records AS r WHERE r.inspection_id = ?) AS t"
    " LEFT JOIN outcomes AS o ON o.record_id = t.id WHERE t.newest = 1"
)
HISTORY_SQL = (
    f"SELECT {RECORD_COLUMNS}, 'bundle', o.conflict_with FROM records AS r"
    " LEFT JOIN outcomes AS o ON o.record_id = r.id"
    " WHERE inspection_id = ? AND kind = ? AND coalesce(checklist_item_id, media_id, 0) = ?"
    " ORDER BY seq"
)
PENDING_SQL = (
    "SELECT count(*) FROM records AS r LEFT JOIN outcomes AS o ON o.record_id = r.id"
    f" WHERE o.outcome IS NULL OR o.outcome = '{KEPT}'"
)


class JournalError(KnownError):
    """A journal that cannot be used: damaged, edited by hand, another bundle's, not writable."""


def journal_path(bundle: Path) -> Path:
    return bundle.with_name(bundle.name + JOURNAL_SUFFIX)


@dataclass(frozen=True, slots=True)
class BundleIdentity:
    """What ties a journal to its bundle and the bundle to its source database."""

    bundle_sha256: str  # of the bundle's inspections.sqlite: differs for every export
    database_id: str | None
    review_seq: int

    @classmethod
    def of(cls, manifest: Manifest) -> BundleIdentity:
        return cls(manifest.files[DATABASE_NAME].sha256, manifest.database_id, manifest.review_seq)


@dataclass(frozen=True, slots=True)
class JournalRow:
    """A record as the journal stores it: text the sync checks before believing any of it."""

    seq: int
    values: tuple[Any, ...]  # RECORD_COLUMNS, as stored
    outcome: str | None


@dataclass(frozen=True, slots=True)
class SyncRun:
    run: int
    finished_at: str
    target: str
    pushed: int
    already_there: int
    conflicts: int
    kept: int
    message: str


class ReviewJournal:
    """The journal of one bundle. Every method is blocking file I/O: call it off the GUI
    thread. The file is made on the first record; until then the journal is empty."""

    def __init__(self, path: Path, identity: BundleIdentity) -> None:
        self.path = path
        self.identity = identity
        self._checked = False

    @property
    def exists(self) -> bool:
        return self.path.exists()

    @contextmanager
    def _connect(self, *, create: bool = False) -> Iterator[sqlite3.Connection]:
        if not create and not self.path.exists():
            raise FileNotFoundError(self.path)
        try:
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open the review journal {self.path}: {exc}") from None
        try:
            con.execute("PRAGMA trusted_schema = OFF")
            con.execute("PRAGMA journal_mode = DELETE")  # one file at rest, atomic commits
            con.execute("PRAGMA synchronous = FULL")
            if not self._checked:
                self._check_or_create(con, create)
            yield con
        except sqlite3.DatabaseError as exc:
            raise JournalError(
                f"the review journal {self.path} is damaged or not writable ({exc})"
            ) from None
        finally:
            con.close()

    def _check_or_create(self, con: sqlite3.Connection, create: bool) -> None:
        if create:
            with _transaction(con):
                if con.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
                    return self._check_existing(con)
                for statement in SCHEMA_SQL.split(";\n"):
                    if statement.strip():
                        con.execute(statement)
                con.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [
                        ("bundle_sha256", self.identity.bundle_sha256),
                        ("database_id", self.identity.database_id or ""),
                        ("review_seq", str(self.identity.review_seq)),
                        ("created_at", encode_timestamp(datetime.now(UTC))),
                    ],
                )
        self._check_existing(con)

    def _check_existing(self, con: sqlite3.Connection) -> None:
        check_schema(con, self.path)
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("bundle_sha256") != self.identity.bundle_sha256:
            raise JournalError(
                f"{self.path.name} is the review journal of another bundle (an earlier export "
                f"with this name?): sync it with that bundle, or move it away to review this one"
            )
        self._checked = True

    # --- writing -----------------------------------------------------------------------------

    def append(self, values: Sequence[Any]) -> None:
        """One record (RECORD_COLUMNS order, timestamps as datetimes) in one transaction."""
        stored = [encode_timestamp(v) if isinstance(v, datetime) else v for v in values]
        stored[0] = str(stored[0])
        try:
            with self._connect(create=True) as con, _transaction(con):
                con.execute(
                    f"INSERT INTO records ({RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    stored,
                )
        except OSError as exc:
            raise JournalError(f"cannot write the review journal {self.path}: {exc}") from None

    def finish_sync(
        self, run: SyncRun, outcomes: Iterable[tuple[str, str, str | None, str | None]]
    ) -> int:
        """Record a sync: its outcomes (record id, outcome, detail, conflict_with) and the run,
        in one transaction. Returns the run's number."""
        with self._connect() as con, _transaction(con):
            cursor = con.execute(
                "INSERT INTO sync_runs (finished_at, target, pushed, already_there, conflicts,"
                " kept, message) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    run.finished_at,
                    run.target,
                    run.pushed,
                    run.already_there,
                    run.conflicts,
                    run.kept,
                    run.message,
                ),
            )
            number = int(cursor.lastrowid or 0)
            con.executemany(
                "INSERT OR REPLACE INTO outcomes (record_id, run, outcome, detail, conflict_with)"
                " VALUES (?, ?, ?, ?, ?)",
                [(rid, number, outcome, detail, other) for rid, outcome, detail, other in outcomes],
            )
        return number

    # --- reading -----------------------------------------------------------------------------

    def state_rows(self, inspection_id: int) -> list[tuple[Any, ...]]:
        """STATE_SQL's rows for one inspection (empty before the first record)."""
        return self._read(STATE_SQL, (inspection_id,))

    def history_rows(self, inspection_id: int, kind: str, target: int | None) -> list[Any]:
        return self._read(HISTORY_SQL, (inspection_id, kind, target or 0))

    def pending(self) -> int:
        """Records not yet in the database (never synced, or kept back by the last sync)."""
        rows = self._read(PENDING_SQL, ())
        return int(rows[0][0]) if rows else 0

    def rows(self) -> list[JournalRow]:
        """Every record in the order written, with its last sync outcome."""
        return [
            JournalRow(int(r[0]), tuple(r[1:-1]), r[-1])
            for r in self._read(
                f"SELECT r.seq, {RECORD_COLUMNS}, o.outcome FROM records AS r"
                " LEFT JOIN outcomes AS o ON o.record_id = r.id ORDER BY r.seq",
                (),
            )
        ]

    def runs(self) -> list[SyncRun]:
        return [
            SyncRun(*row)
            for row in self._read(
                "SELECT run, finished_at, target, pushed, already_there, conflicts, kept, message"
                " FROM sync_runs ORDER BY run",
                (),
            )
        ]

    def _read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        try:
            with self._connect() as con:
                return con.execute(sql, params).fetchall()
        except FileNotFoundError:
            return []


@contextmanager
def _transaction(con: sqlite3.Connection) -> Iterator[None]:
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def check_schema(con: sqlite3.Connection, path: Path) -> None:
    """Refuse a journal whose schema is not exactly SCHEMA_SQL's (views, triggers, other
    tables), reading the schema only, bounded like the bundle's check."""
    steps = 0

    def bounded() -> int:
        nonlocal steps
        steps += 100
        return int(steps > MAX_CHECK_STEPS)

    con.set_progress_handler(bounded, 100)
    try:
        actual = _schema_of(con)
    finally:
        con.set_progress_handler(None, 0)
    if actual != _expected_schema():
        raise JournalError(
            f"{path.name} is not a review journal this app wrote (its tables were changed): "
            "move it away to start a new one"
        )


def _expected_schema() -> tuple[Any, ...]:
    with closing(sqlite3.connect(":memory:")) as con:
        con.executescript(SCHEMA_SQL)
        return _schema_of(con)


def _schema_of(con: sqlite3.Connection) -> tuple[Any, ...]:
    return (
        con.execute("PRAGMA application_id").fetchone()[0],
        con.execute("PRAGMA user_version").fetchone()[0],
        con.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master"
            " WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
        ).fetchall(),
    )
