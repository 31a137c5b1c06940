"""Taking inspections offline: export them into a bundle file, and open one with no server.

Export reads one consistent snapshot of the chosen inspections from PostgreSQL, writes the
bundle to a temporary file beside the target, streaming one photo at a time, and renames it into
place only when complete: a cancelled, failed or killed export leaves no half bundle. Photos that
cannot be read at the source are listed in the manifest and the rest are exported.

Opening checks the archive (db.bundle.BundleArchive), extracts the small SQLite database to the
app's cache and opens it read-only on an async SQLAlchemy engine (aiosqlite), so the app's own
loaders (db.loader.MediaBatchLoader, db.media) run on it unchanged. No PostgreSQL server is
started and no network connection is made.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import sqlite3
import stat
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy import Engine, select
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from db.bundle import (
    CHUNK_BYTES,
    DATABASE_NAME,
    FORMAT_VERSION,
    MANIFEST_NAME,
    SCHEMA_SQL,
    TABLE_COLUMNS,
    BundleArchive,
    BundledInspection,
    BundleTimestamp,
    FileEntry,
    Manifest,
    MediaUnavailable,
    UnavailableMedia,
    app_version,
    encode_timestamp,
    media_entry_name,
    thumbnail_entry_name,
)
from db.config import mask_url
from db.errors import ConfigError, KnownError
from db.models import ChecklistItem, Inspection, InspectionStatus, Media
from db.records import MediaItem

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (phase, done, total), as db.demo reports
Thumbnailer = Callable[[Path], bytes | None]  # original photo -> PNG bytes, None if undecodable
CancelCheck = threading.Event | Callable[[], bool]

PHASE_READ = "Reading inspections"
PHASE_MEDIA = "Copying photos"
PHASE_FINISH = "Finishing the bundle"


class ExportCancelled(KnownError):
    """The user cancelled an export; nothing was written."""


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


# --- export ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    inspections: list[dict[str, Any]]
    items: list[dict[str, Any]]
    media: list[dict[str, Any]]


def export_bundle(
    engine: Engine,
    media_root: Path,
    references: Sequence[str] = (),
    status: str | None = None,
    *,
    out: Path,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
    thumbnailer: Thumbnailer | None = None,
) -> ExportSummary:
    """Write the inspections named by `references` (and/or all of `status`) to bundle `out`.

    Blocking: run it off the GUI thread. Raises ExportCancelled when `cancel` says so, and
    KnownError for what the user can fix (unknown reference, missing folder).
    """
    started = time.perf_counter()
    report: Progress = progress or _no_progress
    cancelled = _cancel_check(cancel)
    out = Path(out)
    if not out.parent.is_dir():
        raise ConfigError(f"folder {out.parent} does not exist")
    if out.is_dir():
        raise ConfigError(f"{out} is a folder")

    report(PHASE_READ, 0, 1)
    snapshot = _read_snapshot(engine, references, status)
    report(PHASE_READ, 1, 1)

    partial = _create_partial(out)
    try:
        with os.fdopen(partial.fd, "w+b") as raw:
            written = _write_archive(
                raw, snapshot, media_root, mask_url(engine.url), report, cancelled, thumbnailer
            )
            raw.flush()
            os.fsync(raw.fileno())
            bundle_bytes = raw.tell()
        if cancelled():
            raise ExportCancelled("Export cancelled: no bundle was written")
        os.replace(partial.path, out)
    except BaseException:
        partial.path.unlink(missing_ok=True)
        raise
    _fsync_folder(out.parent)
    return ExportSummary(
        path=out,
        inspections=len(snapshot.inspections),
        checklist_items=len(snapshot.items),
        media=len(snapshot.media),
        media_files=written.media_files,
        media_bytes=written.media_bytes,
        thumbnails=written.thumbnails,
        unavailable=tuple(written.unavailable),
        bundle_bytes=bundle_bytes,
        seconds=time.perf_counter() - started,
    )


def _no_progress(phase: str, done: int, total: int) -> None:
    pass


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
    found = {r["reference_code"] for r in inspections}
    if missing := [r for r in wanted if r not in found]:
        why = f" with status {status}" if status is not None else ""
        raise KnownError(f"no inspection{why} with reference {', '.join(missing)}")
    if not inspections:
        raise KnownError(f"no inspection has status {status}")
    return _Snapshot(inspections, items, media)


@dataclass
class _Partial:
    fd: int
    path: Path


def _create_partial(out: Path) -> _Partial:
    """A new hidden file beside `out`; O_EXCL, and the umask decides its mode as for any file."""
    for _ in range(100):
        path = out.with_name(f".{out.name}.{secrets.token_hex(6)}.partial")
        try:
            flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            fd = os.open(path, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise KnownError(f"cannot write in {out.parent}: {exc.strerror or exc}") from None
        return _Partial(fd, path)
    raise KnownError(f"cannot create a temporary file in {out.parent}")


def _fsync_folder(folder: Path) -> None:
    # The rename is durable only once the folder is; not possible (nor needed) on Windows.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _BundleWriter:
    """The archive being written: entries so far, and what the manifest will say about them."""

    def __init__(
        self,
        zf: zipfile.ZipFile,
        media_root: Path,
        cancelled: Callable[[], bool],
        thumbnailer: Thumbnailer | None,
    ) -> None:
        self.zf = zf
        self.media_root = media_root
        self.cancelled = cancelled
        self.thumbnailer = thumbnailer
        self.files: dict[str, FileEntry] = {}
        self.media: dict[str, str] = {}  # storage key -> entry
        self.unavailable: list[UnavailableMedia] = []
        self.media_files = 0
        self.media_bytes = 0
        self.thumbnails = 0
        self._by_sha: dict[str, str] = {}

    def add_path(self, name: str, path: Path, compress: int) -> None:
        with path.open("rb") as src:
            self.files[name] = self._add_stream(name, src, path.stat().st_size, compress)

    def add_bytes(self, name: str, data: bytes, compress: int) -> None:
        info = _zip_info(name, compress)
        self.zf.writestr(info, data)
        self.files[name] = FileEntry(hashlib.sha256(data).hexdigest(), len(data))

    def add_media(self, key: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """The file behind one storage key, once per content; its rows' problems recorded."""
        try:
            self._add_media(key, rows)
        except _SourceProblem as problem:
            self._unavailable(rows, problem.reason, problem.detail)
        except FileNotFoundError:
            self._unavailable(rows, "missing", "the file was missing from storage at export")
        except IsADirectoryError:
            self._unavailable(rows, "unreadable", "a folder, not a file, at export")
        except PermissionError:
            self._unavailable(rows, "unreadable", "permission denied reading the file at export")
        except OSError as exc:
            self._unavailable(rows, "unreadable", f"cannot read the file: {exc.strerror or exc}")

    def _add_media(self, key: str, rows: Sequence[Mapping[str, Any]]) -> None:
        source = _source_path(self.media_root, key)
        with source.open("rb") as src:
            if not stat.S_ISREG(os.fstat(src.fileno()).st_mode):
                raise _SourceProblem("unreadable", "not a regular file at export")
            # Hash first, copy second: the entry is named by its content, and a file that is not
            # what its rows say must not go in at all. The second read comes from the page cache.
            actual, size = _hash_stream(src, self.cancelled)
            good = [r for r in rows if r["sha256"] == actual]
            if bad := [r for r in rows if r["sha256"] != actual]:
                if size == 0:
                    self._unavailable(bad, "empty", "the file was empty (0 bytes) at export")
                else:
                    self._unavailable(
                        bad,
                        "checksum_mismatch",
                        f"the file ({size:,} bytes) did not match its recorded SHA-256 "
                        f"({bad[0]['byte_size']:,} bytes) at export: damaged or replaced",
                    )
            if not good:
                return
            if actual in self._by_sha:
                self.media[key] = self._by_sha[actual]
                return
            name = media_entry_name(actual, key, str(good[0]["mime_type"]))
            src.seek(0)
            entry = self._add_stream(name, src, size, zipfile.ZIP_STORED)
        if entry.sha256 != actual:
            raise KnownError(f"{key} changed while it was being exported; export again")
        self.files[name] = entry
        self.media[key] = self._by_sha[actual] = name
        self.media_files += 1
        self.media_bytes += entry.size
        self._add_thumbnail(actual, source)

    def _add_thumbnail(self, sha256: str, source: Path) -> None:
        if self.thumbnailer is None:
            return
        try:
            png = self.thumbnailer(source)
        except Exception:  # a bug in the decoder must not cost the user the whole export
            log.exception("thumbnail of %s failed", source)
            return
        if png:
            self.add_bytes(thumbnail_entry_name(sha256), png, zipfile.ZIP_STORED)
            self.thumbnails += 1

    def _unavailable(self, rows: Iterable[Mapping[str, Any]], reason: str, detail: str) -> None:
        for row in rows:
            self.unavailable.append(
                UnavailableMedia(
                    media_id=int(row["id"]),
                    inspection_id=int(row["inspection_id"]),
                    storage_key=str(row["storage_key"]),
                    reason=reason,
                    detail=detail,
                )
            )

    def _add_stream(self, name: str, src: IO[bytes], size: int, compress: int) -> FileEntry:
        info = _zip_info(name, compress)
        info.file_size = size  # lets zipfile decide on zip64 before it writes the header
        digest = hashlib.sha256()
        written = 0
        with self.zf.open(info, "w") as dst:
            while chunk := src.read(CHUNK_BYTES):
                if self.cancelled():
                    raise ExportCancelled("Export cancelled: no bundle was written")
                digest.update(chunk)
                dst.write(chunk)
                written += len(chunk)
        return FileEntry(digest.hexdigest(), written)


class _SourceProblem(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _source_path(media_root: Path, key: str) -> Path:
    # The schema forbids such keys; a copied or hand-made database might not.
    parts = PurePosixPath(key).parts
    if not parts or PurePosixPath(key).is_absolute() or ".." in parts or "\\" in key:
        raise _SourceProblem("unreadable", f"storage key {key!r} is not a relative path")
    return media_root.joinpath(*parts)


def _hash_stream(src: IO[bytes], cancelled: Callable[[], bool]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := src.read(CHUNK_BYTES):
        if cancelled():
            raise ExportCancelled("Export cancelled: no bundle was written")
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _zip_info(name: str, compress: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.compress_type = compress
    info.external_attr = (stat.S_IFREG | 0o644) << 16  # a plain file for unzip tools
    return info


def _write_archive(
    raw: IO[bytes],
    snapshot: _Snapshot,
    media_root: Path,
    source: str,
    report: Progress,
    cancelled: Callable[[], bool],
    thumbnailer: Thumbnailer | None,
) -> _BundleWriter:
    with zipfile.ZipFile(raw, "w", allowZip64=True) as zf:
        writer = _BundleWriter(zf, media_root, cancelled, thumbnailer)
        with tempfile.TemporaryDirectory(prefix="iv-bundle-") as work:
            db_file = Path(work) / DATABASE_NAME
            _write_database(db_file, snapshot)
            writer.add_path(DATABASE_NAME, db_file, zipfile.ZIP_DEFLATED)

        by_key: dict[str, list[dict[str, Any]]] = {}
        for row in snapshot.media:
            by_key.setdefault(row["storage_key"], []).append(row)
        report(PHASE_MEDIA, 0, len(by_key))
        for done, (key, rows) in enumerate(by_key.items(), start=1):
            if cancelled():
                raise ExportCancelled("Export cancelled: no bundle was written")
            writer.add_media(key, rows)
            report(PHASE_MEDIA, done, len(by_key))

        report(PHASE_FINISH, 0, 1)
        manifest = _manifest(snapshot, writer, source)
        writer.add_bytes(MANIFEST_NAME, manifest.to_json(), zipfile.ZIP_DEFLATED)
    report(PHASE_FINISH, 1, 1)
    return writer


def _manifest(snapshot: _Snapshot, writer: _BundleWriter, source: str) -> Manifest:
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
        media=writer.media,
        unavailable=tuple(writer.unavailable),
    )


def _write_database(path: Path, snapshot: _Snapshot) -> None:
    con = sqlite3.connect(path)
    try:
        con.executescript(SCHEMA_SQL)
        for table, rows in (
            ("inspections", snapshot.inspections),
            ("checklist_items", snapshot.items),
            ("media", snapshot.media),
        ):
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


# --- opening -----------------------------------------------------------------------------------


class OfflineBundle:
    """An open bundle: its checked archive, and a read-only async engine on its database."""

    def __init__(self, archive: BundleArchive, engine: AsyncEngine) -> None:
        self.archive = archive
        self.engine = engine

    @property
    def path(self) -> Path:
        return self.archive.path

    @property
    def manifest(self) -> Manifest:
        return self.archive.manifest

    @property
    def display(self) -> str:
        """What the status bar shows in place of the database URL."""
        return f"Offline bundle: {self.archive.name}"

    def media_path(self, item: MediaItem) -> Path:
        """The photo's file, extracted and checked on first use. Blocking: call it in a worker.

        Raises MediaUnavailable for a photo that was not taken offline and BundleCorruptError
        for one whose bytes do not match the bundle's checksum.
        """
        manifest = self.manifest
        entry = manifest.media.get(item.storage_key)
        if entry is None or manifest.files[entry].sha256 != item.sha256:
            gone = manifest.unavailable_media(item.id)
            why = gone.detail if gone is not None else "it is not in this bundle"
            raise MediaUnavailable(
                f"Photo {PurePosixPath(item.storage_key).name} was not taken offline: {why}"
            )
        return self.archive.extract(entry)

    def thumbnail_path(self, item: MediaItem) -> Path | None:
        """The pre-generated 256 px PNG of a photo, if the export could make one."""
        name = thumbnail_entry_name(item.sha256)
        entry = self.manifest.media.get(item.storage_key)
        if name not in self.manifest.files or entry is None:
            return None
        if self.manifest.files[entry].sha256 != item.sha256:
            return None
        return self.archive.extract(name)

    async def close(self) -> None:
        await self.engine.dispose()
        self.archive.close()


def open_bundle(path: Path, cache_root: Path) -> OfflineBundle:
    """Check a bundle and open its database read-only; photos are checked on first use.

    Blocking (reads the archive's directory, extracts and hashes the database): call it off
    the GUI thread. Every problem with the file is a BundleError with a message for the user.
    """
    archive = BundleArchive(Path(path), cache_root)
    try:
        engine = bundle_engine(archive.extract(DATABASE_NAME))
    except BaseException:
        archive.close()
        raise
    return OfflineBundle(archive, engine)


def bundle_engine(database: Path) -> AsyncEngine:
    """An async engine on a bundle's extracted database: read-only, no locking, aiosqlite."""
    # immutable=1: the file is our private checked copy, so SQLite may skip locks and never
    # looks for a journal to recover (which would be a write).
    url = URL.create(
        "sqlite+aiosqlite",
        database=database.resolve().as_uri(),
        query={"mode": "ro", "immutable": "1", "uri": "true"},
    )
    engine = create_async_engine(url)
    dialect = engine.sync_engine.dialect
    # Timestamps bind in the bundle's stored form (see BundleTimestamp); set on this engine's
    # dialect only, before its first statement compiles.
    dialect.colspecs = {**dialect.colspecs, sqltypes.DateTime: BundleTimestamp}
    return engine
