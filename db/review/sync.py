"""Pushing an offline bundle's review journal to its database: idempotent, in one transaction.

Every record keeps the UUID it was made with, so a second sync, or one run again after a crash
half way, inserts nothing twice (ON CONFLICT DO NOTHING): the records already there are
counted as such. All of a sync goes in ONE transaction: a journal edited into an invalid state,
or a server refusing a record, applies nothing. A record whose item, photo or inspection was
deleted on the server, or whose inspection changed since the export, is not pushed: it stays
in the journal, waiting, with the reason. A verdict recorded on the server after the export
that disagrees with the journal's newest one on the same target is a conflict: both records
are kept, the pushed one names the other (`conflict_with`), and a new record resolves it.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as pg_insert

from db.config import mask_url
from db.errors import KnownError
from db.models import Review
from db.offline.archive import BundleArchive
from db.offline.format import DATABASE_NAME
from db.offline.journal import (
    ALREADY_THERE,
    CONFLICT,
    KEPT,
    PUSHED,
    BundleIdentity,
    JournalRow,
    ReviewJournal,
    SyncRun,
    journal_path,
)
from db.offline.schema import check_database, encode_timestamp
from db.review.queries import database_identity, row_values
from db.review.records import ReviewInputError, ReviewKind, ReviewRecord, check_record
from db.review.summary import SyncConflict, SyncSummary

BATCH_RECORDS = 200
MAX_PROBLEMS_SHOWN = 5

# (records sent so far, records to send): called between batches, inside the transaction.
BatchCallback = Callable[[int, int], None]


class SyncRefused(KnownError):
    """The bundle cannot be synced to this database (another database's, too old, no review
    table); nothing was sent."""


class JournalInvalid(KnownError):
    """The journal holds records that break the rules (edited by hand?); nothing was sent."""


@dataclass(frozen=True)
class _Baseline:
    """What the bundle says about its inspections and their items and photos."""

    inspections: dict[int, tuple[str, str]]  # id -> (reference, updated_at as stored)
    items: dict[int, int]  # checklist item -> inspection
    media: dict[int, int]  # photo -> inspection


def sync_bundle(
    engine: Engine,
    bundle: Path,
    cache_root: Path,
    *,
    include_changed: bool = False,
    on_batch: BatchCallback | None = None,
) -> SyncSummary:
    """Push the journal of `bundle` to the database of `engine`. Blocking. KnownError (with
    nothing sent) for another database's bundle, an invalid journal, a server that refuses."""
    identity, baseline = _read_bundle(bundle, cache_root)
    journal = ReviewJournal(journal_path(bundle), identity)
    rows = journal.rows()
    waiting = [row for row in rows if row.outcome in (None, KEPT)]
    references = {i: ref for i, (ref, _) in baseline.inspections.items()}
    if not waiting:
        return SyncSummary(references=references)
    records = _checked_records(waiting, baseline, journal.path.name)
    try:
        with engine.begin() as conn:
            _check_identity(conn, identity, bundle.name)
            keep = _kept(conn, records, baseline, include_changed)
            push = [r for r in records if r.id not in keep]
            conflicts = _conflicts(conn, push, _own_ids(rows), identity.review_seq)
            inserted = _insert(conn, push, conflicts, on_batch)
            stored = _stored_conflicts(conn, [r.id for r in push])
    except sa_exc.DBAPIError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise SyncRefused(f"the database refused the sync, nothing was applied: {reason}") from exc
    summary = _summary(records, keep, inserted, stored, references)
    _record_run(journal, engine, summary, records, keep, inserted, stored)
    return summary


def _read_bundle(bundle: Path, cache_root: Path) -> tuple[BundleIdentity, _Baseline]:
    with BundleArchive(bundle, cache_root) as archive:
        identity = BundleIdentity.of(archive.manifest)
        database = archive.extract(DATABASE_NAME)
        check_database(database, archive.name)
        uri = f"{database.resolve().as_uri()}?mode=ro&immutable=1"
        with closing(sqlite3.connect(uri, uri=True)) as con:
            inspections = {
                int(r[0]): (str(r[1]), str(r[2]))
                for r in con.execute("SELECT id, reference_code, updated_at FROM inspections")
            }
            items = dict(con.execute("SELECT id, inspection_id FROM checklist_items").fetchall())
            media = dict(con.execute("SELECT id, inspection_id FROM media").fetchall())
    return identity, _Baseline(inspections, items, media)


def _checked_records(
    rows: Sequence[JournalRow], baseline: _Baseline, journal_name: str
) -> list[ReviewRecord]:
    records: list[ReviewRecord] = []
    problems: list[str] = []
    for row in rows:
        try:
            record = _record_of(row)
            check_record(record)
            _check_target(record, baseline)
        except (ReviewInputError, ValueError, TypeError, IndexError) as exc:
            problems.append(f"record {row.seq}: {exc}")
            continue
        records.append(record)
    if problems:
        shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - MAX_PROBLEMS_SHOWN
        raise JournalInvalid(
            f"{journal_name} holds {len(problems)} invalid record(s), so nothing was synced "
            f"(edited by hand?): {shown}" + (f"; and {more} more" if more > 0 else "")
        )
    return records


def _record_of(row: JournalRow) -> ReviewRecord:
    v = row.values
    if not isinstance(v[8], str):
        raise ValueError("its time is not text")
    return ReviewRecord(
        id=uuid.UUID(str(v[0])),
        kind=ReviewKind(v[1]),
        inspection_id=_int(v[2]),
        checklist_item_id=None if v[3] is None else _int(v[3]),
        media_id=None if v[4] is None else _int(v[4]),
        value=v[5] if v[5] is None else str(v[5]),
        comment=v[6] if v[6] is None else str(v[6]),
        reviewer=str(v[7]),
        created_at=datetime.fromisoformat(v[8]),
        origin="bundle",
    )


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{value!r} is not an id")
    return value


def _check_target(record: ReviewRecord, baseline: _Baseline) -> None:
    if record.inspection_id not in baseline.inspections:
        raise ValueError(f"inspection {record.inspection_id} is not in the bundle")
    owner = {ReviewKind.ITEM: baseline.items, ReviewKind.PHOTO: baseline.media}.get(record.kind)
    if owner is not None and owner.get(record.target or 0) != record.inspection_id:
        raise ValueError(f"{record.kind} {record.target} is not one of its inspection's")


def _check_identity(conn: Connection, identity: BundleIdentity, name: str) -> None:
    if identity.database_id is None:
        raise SyncRefused(
            f"{name} was exported before bundles recorded their database, so its reviews "
            "cannot be matched to one: export the inspections again to review them offline"
        )
    try:
        ours = database_identity(conn)
    except sa_exc.DBAPIError:
        ours = None
    if ours is None:
        raise SyncRefused(
            "this database has no review records yet (revision 0004): run "
            "'inspection-viewer db upgrade' first"
        )
    if str(ours) != identity.database_id:
        raise SyncRefused(
            f"{name} was exported from another database (identity {identity.database_id}, "
            f"this one is {ours}): sync it to the database it came from; nothing was sent"
        )


def _kept(
    conn: Connection, records: Sequence[ReviewRecord], baseline: _Baseline, include_changed: bool
) -> dict[uuid.UUID, str]:
    """Records that stay in the journal, and why (one reason per inspection)."""
    ids = sorted({r.inspection_id for r in records})
    server = {
        int(r[0]): (str(r[1]), r[2])
        for r in conn.execute(
            text("SELECT id, reference_code, updated_at FROM inspections WHERE id = ANY(:ids)"),
            {"ids": ids},
        )
    }
    items = set(
        conn.execute(
            text("SELECT id FROM checklist_items WHERE inspection_id = ANY(:ids)"), {"ids": ids}
        ).scalars()
    )
    media = set(
        conn.execute(
            text("SELECT id FROM media WHERE inspection_id = ANY(:ids) AND deleted_at IS NULL"),
            {"ids": ids},
        ).scalars()
    )
    kept: dict[uuid.UUID, str] = {}
    for r in records:
        ref, stamp = baseline.inspections[r.inspection_id]
        now = server.get(r.inspection_id)
        if now is None or now[0] != ref:
            kept[r.id] = f"inspection {ref} was deleted on the server"
        elif not include_changed and encode_timestamp(now[1]) != stamp:
            kept[r.id] = (
                f"inspection {ref} changed on the server since the export; check it, then sync "
                "again with --include-changed to push these records anyway"
            )
        elif (r.kind is ReviewKind.ITEM and r.target not in items) or (
            r.kind is ReviewKind.PHOTO and r.target not in media
        ):
            kept[r.id] = f"inspection {ref}: the {r.kind} {r.target} was deleted on the server"
    return kept


def _own_ids(rows: Sequence[JournalRow]) -> list[uuid.UUID]:
    """Every record this journal ever held (synced earlier or not): never a conflict."""
    own = []
    for row in rows:
        try:
            own.append(uuid.UUID(str(row.values[0])))
        except ValueError:
            continue
    return own


def _conflicts(
    conn: Connection, push: Sequence[ReviewRecord], own: list[uuid.UUID], baseline_seq: int
) -> dict[uuid.UUID, uuid.UUID]:
    """Our newest record per target -> the newest server record made after the export (not
    one of this journal's) on that target, where their values differ."""
    ours: dict[tuple[str, int, int | None], ReviewRecord] = {}
    for r in push:
        ours[(r.kind, r.inspection_id, r.target)] = r  # journal order: the last is the newest
    if not ours:
        return {}
    rows = conn.execute(
        text(
            "SELECT id, kind, inspection_id, coalesce(checklist_item_id, media_id), value"
            " FROM review_records WHERE inspection_id = ANY(:inspections) AND seq > :seq"
            " AND id <> ALL(:ours) ORDER BY seq"
        ),
        {
            "inspections": sorted({r.inspection_id for r in push}),
            "seq": baseline_seq,
            "ours": own,
        },
    )
    theirs = {(str(r[1]), int(r[2]), r[3]): (r[0], r[4]) for r in rows}
    found: dict[uuid.UUID, uuid.UUID] = {}
    for key, record in ours.items():
        other = theirs.get(key)
        if other is not None and other[1] != record.value:
            found[record.id] = other[0]
    return found


def _insert(
    conn: Connection,
    push: Sequence[ReviewRecord],
    conflicts: dict[uuid.UUID, uuid.UUID],
    on_batch: BatchCallback | None,
) -> set[uuid.UUID]:
    inserted: set[uuid.UUID] = set()
    for start in range(0, len(push), BATCH_RECORDS):
        batch = [
            {**row_values(r), "conflict_with": conflicts.get(r.id)}
            for r in push[start : start + BATCH_RECORDS]
        ]
        stmt = (
            pg_insert(Review)
            .values(batch)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(Review.id)
        )
        inserted.update(conn.execute(stmt).scalars())
        if on_batch is not None:
            on_batch(start + len(batch), len(push))
    return inserted


def _stored_conflicts(
    conn: Connection, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[uuid.UUID, str | None, str, datetime]]:
    """Our records on the server that name a conflict, with the other record's value, reviewer
    and time (read back: a record pushed by an earlier, interrupted sync keeps its own)."""
    rows = conn.execute(
        text(
            "SELECT o.id, t.id, t.value, t.reviewer, t.created_at FROM review_records AS o"
            " JOIN review_records AS t ON t.id = o.conflict_with WHERE o.id = ANY(:ids)"
        ),
        {"ids": list(ids)},
    )
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def _summary(
    records: Sequence[ReviewRecord],
    keep: dict[uuid.UUID, str],
    inserted: set[uuid.UUID],
    stored: dict[uuid.UUID, tuple[uuid.UUID, str | None, str, datetime]],
    references: dict[int, str],
) -> SyncSummary:
    pushed = [r for r in records if r.id not in keep]
    conflicts = tuple(
        SyncConflict(r, stored[r.id][1], stored[r.id][2], stored[r.id][3])
        for r in pushed
        if r.id in stored
    )
    reasons: dict[str, int] = {}
    for reason in keep.values():
        reasons[reason] = reasons.get(reason, 0) + 1
    return SyncSummary(
        pushed=len(inserted),
        already_there=len(pushed) - len(inserted),
        conflicts=conflicts,
        kept=tuple(f"{why} ({n} record{'s' if n != 1 else ''})" for why, n in reasons.items()),
        kept_records=len(keep),
        references=references,
    )


def _record_run(
    journal: ReviewJournal,
    engine: Engine,
    summary: SyncSummary,
    records: Iterable[ReviewRecord],
    keep: dict[uuid.UUID, str],
    inserted: set[uuid.UUID],
    stored: dict[uuid.UUID, tuple[uuid.UUID, str | None, str, datetime]],
) -> None:
    def outcome(r: ReviewRecord) -> tuple[str, str, str | None, str | None]:
        if r.id in keep:
            return str(r.id), KEPT, keep[r.id], None
        if r.id in stored:
            return str(r.id), CONFLICT, None, str(stored[r.id][0])
        return str(r.id), PUSHED if r.id in inserted else ALREADY_THERE, None, None

    run = SyncRun(
        run=0,
        finished_at=datetime.now(UTC).isoformat(),
        target=mask_url(engine.url),
        pushed=summary.pushed,
        already_there=summary.already_there,
        conflicts=len(summary.conflicts),
        kept=summary.kept_records,
        message="\n".join(summary.lines()),
    )
    journal.finish_sync(run, [outcome(r) for r in records])
