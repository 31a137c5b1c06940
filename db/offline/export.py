"""Taking inspections offline: one consistent snapshot and its photos written to a bundle file."""

# The bundle is written to a temporary file beside the target, streaming one photo at a time,
# and renamed into place only when complete: a cancelled or failed export leaves no half
# bundle. A killed one cannot remove its temporary file, so the file is locked while it is
# written and the next export into that folder removes those nobody holds any more.
# Photos the media store cannot deliver are listed in the manifest and the rest exported.

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import stat
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from db.config import mask_url
from db.errors import ConfigError, KnownError
from db.files import fsync_folder
from db.models import ChecklistItem, Inspection, InspectionStatus, Media
from db.offline.format import (
    DATABASE_NAME,
    FORMAT_VERSION,
    MANIFEST_NAME,
    BundledInspection,
    BundleLimits,
    Manifest,
    UnavailableMedia,
    app_version,
    megabytes,
)
from db.offline.locks import is_linked_at, try_lock
from db.offline.schema import write_database
from db.offline.writer import BundleWriter, ExportCancelled, Thumbnailer
from db.progress import ProgressCallback, no_progress
from db.review.queries import database_identity, review_baseline
from db.storage.base import MediaStore

log = logging.getLogger(__name__)

CancelCheck = threading.Event | Callable[[], bool]

# `.<bundle name>.<12 hex>.partial`: what _create_partial names its files, and nothing else.
_PARTIAL = re.compile(r"\..+\.ivbundle\.[0-9a-f]{12}\.partial", re.IGNORECASE)

PHASE_READ = "Reading inspections"
PHASE_MEDIA = "Copying photos"
PHASE_FINISH = "Finishing the bundle"


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    inspections: int
    checklist_items: int
    media: int  # media rows in the bundle
    media_files: int  # distinct photo files stored (deduplicated by content)
    media_bytes: int  # their total size
    thumbnails: int
    unavailable: tuple[UnavailableMedia, ...]
    bundle_bytes: int
    seconds: float


@dataclass(frozen=True)
class _Snapshot:
    inspections: list[dict[str, Any]]
    items: list[dict[str, Any]]
    media: list[dict[str, Any]]
    database_id: str | None = None
    review_seq: int = 0


def export_bundle(
    engine: Engine,
    store: MediaStore,
    references: Sequence[str] = (),
    status: str | None = None,
    *,
    out: Path,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    thumbnailer: Thumbnailer | None = None,
) -> ExportSummary:
    """Write the inspections named by `references` (and/or all of `status`) to bundle `out`,
    their photos read from `store`.

    Blocking: run it off the GUI thread. Raises ExportCancelled when `cancel` says so, and
    KnownError for what the user can fix (unknown reference, missing folder). Temporary files
    that killed exports left in `out`'s folder are removed first.
    """
    started = time.perf_counter()
    report = progress or no_progress
    cancelled = _cancel_check(cancel)
    out = _checked_out_path(Path(out))
    remove_stale_partials(out.parent)

    report(PHASE_READ, 0, 1)
    snapshot = _read_snapshot(engine, references, status)
    report(PHASE_READ, 1, 1)

    partial = _create_partial(out)
    try:
        with os.fdopen(partial.fd, "w+b") as raw:
            with zipfile.ZipFile(raw, "w", allowZip64=True) as zf:
                writer = BundleWriter(zf, store, cancelled, thumbnailer)
                _write_entries(writer, snapshot, mask_url(engine.url), report)
            report(PHASE_FINISH, 1, 1)
            raw.flush()
            os.fsync(raw.fileno())
            bundle_bytes = raw.tell()
        if cancelled():
            raise ExportCancelled("Export cancelled: no bundle was written")
        os.replace(partial.path, out)
    except BaseException:
        partial.path.unlink(missing_ok=True)
        raise
    finally:
        partial.release()  # only now: the lock says "in use" until the file has its name
    fsync_folder(out.parent)
    return ExportSummary(
        path=out,
        inspections=len(snapshot.inspections),
        checklist_items=len(snapshot.items),
        media=len(snapshot.media),
        media_files=writer.media_files,
        media_bytes=writer.media_bytes,
        thumbnails=writer.thumbnails,
        unavailable=tuple(writer.unavailable),
        bundle_bytes=bundle_bytes,
        seconds=time.perf_counter() - started,
    )


def _checked_out_path(out: Path) -> Path:
    if not out.parent.is_dir():
        raise ConfigError(f"folder {out.parent} does not exist")
    if out.is_dir():
        raise ConfigError(f"{out} is a folder")
    return out


def _cancel_check(cancel: CancelCheck | None) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel


def _read_snapshot(engine: Engine, references: Sequence[str], status: str | None) -> _Snapshot:
    wanted = sorted({r.strip() for r in references if r.strip()})
    if not wanted and status is None:
        raise ConfigError("name the inspections to take offline, or a status")
    if status is not None and status not in {s.value for s in InspectionStatus}:
        raise ConfigError(
            f"unknown status {status!r}; use one of " + ", ".join(s.value for s in InspectionStatus)
        )
    query = select(Inspection.__table__)
    if wanted:
        query = query.where(Inspection.reference_code.in_(wanted))
    if status is not None:
        query = query.where(Inspection.status == status)
    query = query.order_by(Inspection.scheduled_at.desc(), Inspection.id.desc())
    # One snapshot for the three tables: rows written meanwhile cannot make them disagree.
    with (
        engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn,
        conn.begin(),
    ):
        inspections = [dict(r) for r in conn.execute(query).mappings()]
        ids = [r["id"] for r in inspections]
        items = [
            dict(r)
            for r in conn.execute(
                select(ChecklistItem.__table__)
                .where(ChecklistItem.inspection_id.in_(ids))
                .order_by(ChecklistItem.inspection_id, ChecklistItem.position)
            ).mappings()
        ]
        # Soft-deleted photos are never shown, so they do not travel.
        media = [
            dict(r)
            for r in conn.execute(
                select(Media.__table__)
                .join(ChecklistItem, ChecklistItem.id == Media.checklist_item_id)
                .where(Media.inspection_id.in_(ids), Media.deleted_at.is_(None))
                .order_by(Media.inspection_id, ChecklistItem.position, Media.captured_at, Media.id)
            ).mappings()
        ]
        identity = database_identity(conn)
        review_seq = review_baseline(conn)
    found = {r["reference_code"] for r in inspections}
    if missing := [r for r in wanted if r not in found]:
        why = f" with status {status}" if status is not None else ""
        raise KnownError(f"no inspection{why} with reference {', '.join(missing)}")
    if not inspections:
        raise KnownError(f"no inspection has status {status}")
    return _Snapshot(
        inspections, items, media, None if identity is None else str(identity), review_seq
    )


@dataclass
class _Partial:
    fd: int
    path: Path
    # A second descriptor of the same open file, so its lock outlives the writer's `fd` until
    # the file is renamed or removed (none where there are no locks: Windows renames no open
    # file).
    lock: int | None

    def release(self) -> None:
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None


def _create_partial(out: Path) -> _Partial:
    """A new hidden file beside `out`, locked for as long as `fd` is open; O_EXCL, and the
    umask decides its mode as for any file."""
    for _ in range(100):
        path = out.with_name(f".{out.name}.{secrets.token_hex(6)}.partial")
        try:
            flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            fd = os.open(path, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise KnownError(f"cannot write in {out.parent}: {exc.strerror or exc}") from None
        # Another export's clean-up may have taken it in the instant before the lock (and
        # removed it): then it is no longer ours, and another name is tried.
        if try_lock(fd, shared=True) and is_linked_at(fd, path):
            return _Partial(fd, path, None if sys.platform == "win32" else os.dup(fd))
        os.close(fd)
    raise KnownError(f"cannot create a temporary file in {out.parent}")


def remove_stale_partials(folder: Path) -> list[Path]:
    """Remove the temporary files of exports into `folder` that were killed (kill -9, power
    cut): files named as _create_partial names them, owned by this user, that no live process
    holds locked. Anything else is left alone. Returns what was removed."""
    removed: list[Path] = []
    try:
        names = [e.name for e in os.scandir(folder) if _PARTIAL.fullmatch(e.name)]
    except OSError:
        return removed
    for name in names:
        path = folder / name
        if _remove_if_abandoned(path):
            removed.append(path)
    if removed:
        log.info("removed %d abandoned export file(s) in %s", len(removed), folder)
    return removed


def _remove_if_abandoned(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:  # gone meanwhile, a symbolic link, not ours to read
        return False
    try:
        info = os.fstat(fd)
        ours = not hasattr(os, "getuid") or info.st_uid == os.getuid()
        if not (stat.S_ISREG(info.st_mode) and ours):
            return False
        # An export in progress holds its file's lock; a killed one held it no longer.
        if not (try_lock(fd) and is_linked_at(fd, path)):
            return False
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return True
    except OSError as exc:
        log.warning("cannot remove the abandoned export file %s: %s", path, exc)
        return False
    finally:
        os.close(fd)


def _write_entries(
    writer: BundleWriter, snapshot: _Snapshot, source: str, report: ProgressCallback
) -> None:
    with tempfile.TemporaryDirectory(prefix="iv-bundle-") as work:
        db_file = Path(work) / DATABASE_NAME
        write_database(
            db_file,
            {
                "inspections": snapshot.inspections,
                "checklist_items": snapshot.items,
                "media": snapshot.media,
            },
        )
        # A bundle whose database is over the limit could not be opened: say so now.
        limit = BundleLimits().database_bytes
        if (size := db_file.stat().st_size) > limit:
            raise KnownError(
                f"the chosen inspections make a database of {megabytes(size)}, over the "
                f"{megabytes(limit)} a bundle may hold: take fewer inspections offline at once"
            )
        writer.add_path(DATABASE_NAME, db_file, zipfile.ZIP_DEFLATED)

    by_key: dict[str, list[dict[str, Any]]] = {}
    for row in snapshot.media:
        by_key.setdefault(row["storage_key"], []).append(row)
    report(PHASE_MEDIA, 0, len(by_key))
    for done, (key, rows) in enumerate(by_key.items(), start=1):
        if writer.cancelled():
            raise ExportCancelled("Export cancelled: no bundle was written")
        writer.add_media(key, rows)
        report(PHASE_MEDIA, done, len(by_key))

    report(PHASE_FINISH, 0, 1)
    manifest = _manifest(snapshot, writer, source)
    writer.add_bytes(MANIFEST_NAME, manifest.to_json(), zipfile.ZIP_DEFLATED)


def _manifest(snapshot: _Snapshot, writer: BundleWriter, source: str) -> Manifest:
    items_of: dict[int, int] = {}
    for item in snapshot.items:
        items_of[item["inspection_id"]] = items_of.get(item["inspection_id"], 0) + 1
    media_of: dict[int, int] = {}
    for row in snapshot.media:
        media_of[row["inspection_id"]] = media_of.get(row["inspection_id"], 0) + 1
    return Manifest(
        format_version=FORMAT_VERSION,
        app_version=app_version(),
        created_at=datetime.now(UTC),
        source=source,
        inspections=tuple(
            BundledInspection(
                id=r["id"],
                reference_code=r["reference_code"],
                status=r["status"],
                checklist_items=items_of.get(r["id"], 0),
                media=media_of.get(r["id"], 0),
            )
            for r in snapshot.inspections
        ),
        counts={
            "inspections": len(snapshot.inspections),
            "checklist_items": len(snapshot.items),
            "media": len(snapshot.media),
            "media_files": writer.media_files,
            "media_bytes": writer.media_bytes,
            "thumbnails": writer.thumbnails,
            "unavailable_media": len(writer.unavailable),
        },
        files=writer.files,
        database_id=snapshot.database_id,
        review_seq=snapshot.review_seq,
        media=writer.media,
        unavailable=tuple(writer.unavailable),
    )
