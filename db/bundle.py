"""The offline bundle format (.ivbundle): one ZIP file with a manifest, a SQLite copy and photos.

Layout of format version 1 (entry names are exactly these; anything else is refused):

    inspections.sqlite          the inspections, checklist_items and media tables (DDL below)
                                for the chosen inspections; live media rows only. Deflated.
    media/<sha256>.<ext>        each photo file once, deduplicated by content. Stored.
    thumbnails/<sha256>.png     256 px PNG thumbnail of that photo, when it could be decoded.
    manifest.json               written last: format, format_version, app_version, created_at,
                                source (database URL, password masked), inspections, counts,
                                files (entry -> sha256 and size), media (storage key -> entry)
                                and unavailable (media rows whose file could not be exported).

Timestamps are stored as UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff+00:00': fixed width, so text order
is time order (ORDER BY captured_at stays right), and they parse back timezone-aware.

Why a ZIP around a small SQLite file rather than photo blobs inside SQLite:
- photos are JPEGs already: stored ZIP entries add ~100 bytes each, and any unzip tool can list
  and extract them; blobs would cost overflow-page slack and, written through the journal, twice
  the I/O on export;
- the export streams one photo at a time into an append-only archive and finalises it with the
  central directory; a bundle cut short has no central directory and is recognised at once;
- the bundle is never written to when opened: SQLite wants a real file next to which it may
  create journal files, so the (small) database is extracted to the app's cache and opened
  read-only there, and photos are extracted on first view, each checked against its SHA-256.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import re
import secrets
import stat
import threading
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.engine import Dialect

from db.errors import KnownError

FORMAT_NAME = "inspection-viewer-bundle"
FORMAT_VERSION = 1
BUNDLE_SUFFIX = ".ivbundle"
MANIFEST_NAME = "manifest.json"
DATABASE_NAME = "inspections.sqlite"
THUMBNAIL_SIZE_PX = 256
# Generous (a manifest lists ~200 bytes per photo) and still a bound on what json.loads reads.
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024

_SHA256 = re.compile(r"[0-9a-f]{64}")
_MEDIA_ENTRY = re.compile(r"media/[0-9a-f]{64}\.[a-z0-9]{1,8}")
_THUMBNAIL_ENTRY = re.compile(r"thumbnails/[0-9a-f]{64}\.png")
# What zipfile raises for a damaged or cut-off archive (a bad CRC, a broken deflate stream, a
# header pointing past the end, an encrypted or exotic entry).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    zlib.error,
    NotImplementedError,
    RuntimeError,
)
_EXTENSION = re.compile(r"[a-z0-9]{1,8}")
_DRIVE = re.compile(r"[A-Za-z]:")

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
PRAGMA application_id = 0x49564231;
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

_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f+00:00"


def encode_timestamp(value: datetime) -> str:
    """A timezone-aware datetime as the bundle stores it (UTC, fixed width)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: bundles store timezone-aware times only")
    return value.astimezone(UTC).strftime(_TIMESTAMP_FORMAT)


class BundleTimestamp(DATETIME):
    """SQLite's DATETIME, binding parameters in the bundle's stored form.

    The stock type drops the timezone when binding, so a bound time would compare as text
    against a stored one of another shape (keyset paging of the inspection list does this).
    Reading needs nothing special: datetime.fromisoformat() keeps the stored +00:00.
    """

    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Any:
        def process(value: datetime | None) -> str | None:
            return None if value is None else encode_timestamp(value)

        return process


# --- errors ----------------------------------------------------------------------------------


class BundleError(KnownError):
    """A bundle that cannot be opened or read; the message says why and what to do."""


class BundleFormatError(BundleError):
    """Not a bundle, an unknown format version, or one made by a newer app."""


class BundleCorruptError(BundleError):
    """Truncated, damaged or inconsistent: a checksum or size does not match the manifest."""


class BundleUnsafeError(BundleError):
    """Entries that would be written outside their folder (path traversal, links): refused."""


class MediaUnavailable(BundleError):
    """A photo whose file was not taken offline (missing or unreadable when exported)."""


# --- entry names -------------------------------------------------------------------------------


def unsafe_entry_reason(info: zipfile.ZipInfo) -> str | None:
    """Why an archive entry could escape its target folder, or None if its name is harmless."""
    name = info.filename
    if "\x00" in name:
        return "a NUL byte in its name"
    if "\\" in name:
        return "a backslash in its name"
    if name.startswith("/"):
        return "an absolute path"
    if _DRIVE.match(name):
        return "a drive letter"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "a relative path component"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "it is a symbolic link"
    return None


def is_known_entry(name: str) -> bool:
    return (
        name in (MANIFEST_NAME, DATABASE_NAME)
        or _MEDIA_ENTRY.fullmatch(name) is not None
        or _THUMBNAIL_ENTRY.fullmatch(name) is not None
    )


def media_entry_name(sha256: str, storage_key: str, mime_type: str) -> str:
    """media/<sha256>.<ext>, the extension from the storage key (or the MIME type)."""
    ext = PurePosixPath(storage_key).suffix.lower().lstrip(".")
    if not _EXTENSION.fullmatch(ext):
        ext = _MIME_EXTENSIONS.get(mime_type.lower(), "bin")
    return f"media/{sha256}.{ext}"


def thumbnail_entry_name(sha256: str) -> str:
    return f"thumbnails/{sha256}.png"


_MIME_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/heic": "heic",
    "image/webp": "webp",
    "image/tiff": "tif",
}


# --- the manifest ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileEntry:
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class BundledInspection:
    id: int
    reference_code: str
    status: str
    checklist_items: int
    media: int


@dataclass(frozen=True, slots=True)
class UnavailableMedia:
    """A media row whose file is not in the bundle, and why (shown instead of the photo)."""

    media_id: int
    inspection_id: int
    storage_key: str
    reason: str  # missing | unreadable | empty | checksum_mismatch
    detail: str


@dataclass(frozen=True)
class Manifest:
    """manifest.json: what the bundle holds and the checksum of every other entry."""

    format_version: int
    app_version: str
    created_at: datetime
    source: str
    inspections: tuple[BundledInspection, ...]
    counts: Mapping[str, int]
    files: Mapping[str, FileEntry]
    media: Mapping[str, str]  # storage key -> media entry name
    unavailable: tuple[UnavailableMedia, ...] = ()
    _unavailable_by_id: dict[int, UnavailableMedia] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self._unavailable_by_id.update({u.media_id: u for u in self.unavailable})

    def unavailable_media(self, media_id: int) -> UnavailableMedia | None:
        return self._unavailable_by_id.get(media_id)

    def to_json(self) -> bytes:
        document = {
            "format": FORMAT_NAME,
            "format_version": self.format_version,
            "app_version": self.app_version,
            "created_at": self.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "source": self.source,
            "inspections": [_plain(i) for i in self.inspections],
            "counts": dict(self.counts),
            "files": {name: _plain(entry) for name, entry in sorted(self.files.items())},
            "media": dict(sorted(self.media.items())),
            "unavailable": [_plain(u) for u in self.unavailable],
        }
        return json.dumps(document, indent=1, ensure_ascii=False).encode("utf-8") + b"\n"

    @classmethod
    def from_json(cls, data: bytes, bundle_name: str) -> Manifest:
        """Parse and check a manifest; every failure is a BundleError naming the bundle."""
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise BundleCorruptError(
                f"{bundle_name} is damaged: its manifest is not valid JSON ({exc})"
            ) from None
        if not isinstance(doc, dict):
            raise BundleCorruptError(f"{bundle_name} is damaged: its manifest is not an object")
        check_version(doc, bundle_name)
        try:
            return _parse_manifest(doc, bundle_name)
        except (KeyError, TypeError, ValueError) as exc:
            raise BundleCorruptError(
                f"{bundle_name} is damaged: its manifest is incomplete or malformed ({exc!r})"
            ) from None


def app_version() -> str:
    """The running app's version (from the installed package metadata; db/ cannot ask viewer/)."""
    try:
        return importlib.metadata.version("inspection-viewer")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def version_key(version: str) -> tuple[int, ...]:
    """'0.10.2' -> (0, 10, 2); stops at the first part that is not a number ('1.2rc1' -> (1,))."""
    key: list[int] = []
    for part in version.split("."):
        if not part.isdigit():
            break
        key.append(int(part))
    return tuple(key)


def check_version(doc: Mapping[str, Any], bundle_name: str) -> None:
    """Refuse anything but a bundle of a format version this app reads, with the reason."""
    if doc.get("format") != FORMAT_NAME:
        raise BundleFormatError(
            f"{bundle_name} is not an Inspection Viewer offline bundle "
            f"(its manifest says format {doc.get('format')!r})"
        )
    version = doc.get("format_version")
    made_by = doc.get("app_version")
    made_by_text = made_by if isinstance(made_by, str) else "an unknown version"
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BundleFormatError(
            f"{bundle_name} has an unknown bundle format version {version!r} "
            f"(made by Inspection Viewer {made_by_text}); this app reads format {FORMAT_VERSION}"
        )
    if version > FORMAT_VERSION:
        raise BundleFormatError(
            f"{bundle_name} was made by a newer Inspection Viewer ({made_by_text}, bundle format "
            f"{version}); this is Inspection Viewer {app_version()}, which reads format "
            f"{FORMAT_VERSION}: update Inspection Viewer to open it"
        )


def _plain(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


def _parse_manifest(doc: dict[str, Any], bundle_name: str) -> Manifest:
    files: dict[str, FileEntry] = {}
    for name, entry in dict(doc["files"]).items():
        _check_listed_name(name, bundle_name)
        sha, size = str(entry["sha256"]), int(entry["size"])
        if not _SHA256.fullmatch(sha) or size < 0:
            raise ValueError(f"bad checksum or size for {name}")
        files[name] = FileEntry(sha, size)
    if DATABASE_NAME not in files:
        raise ValueError(f"{DATABASE_NAME} is not listed")
    media: dict[str, str] = {}
    for key, name in dict(doc["media"]).items():
        _check_listed_name(str(name), bundle_name)
        if not _MEDIA_ENTRY.fullmatch(name) or name not in files:
            raise ValueError(f"storage key {key!r} points at {name!r}, which is not a listed photo")
        media[str(key)] = name
    created = datetime.fromisoformat(str(doc["created_at"]).replace("Z", "+00:00"))
    return Manifest(
        format_version=int(doc["format_version"]),
        app_version=str(doc["app_version"]),
        created_at=created,
        source=str(doc["source"]),
        inspections=tuple(
            BundledInspection(
                id=int(i["id"]),
                reference_code=str(i["reference_code"]),
                status=str(i["status"]),
                checklist_items=int(i["checklist_items"]),
                media=int(i["media"]),
            )
            for i in doc["inspections"]
        ),
        counts={str(k): int(v) for k, v in dict(doc["counts"]).items()},
        files=files,
        media=media,
        unavailable=tuple(
            UnavailableMedia(
                media_id=int(u["media_id"]),
                inspection_id=int(u["inspection_id"]),
                storage_key=str(u["storage_key"]),
                reason=str(u["reason"]),
                detail=str(u["detail"]),
            )
            for u in doc.get("unavailable", ())
        ),
    )


def _check_listed_name(name: str, bundle_name: str) -> None:
    # The manifest names entries too: the same rule as for the archive's own names.
    reason = unsafe_entry_reason(zipfile.ZipInfo(name))
    if reason is not None:
        raise BundleUnsafeError(
            f"{bundle_name} was refused: its manifest lists {name!r}, which has {reason}"
        )
    if name == MANIFEST_NAME or not is_known_entry(name):
        raise ValueError(f"unexpected file {name!r}")


# --- reading an archive ------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class BundleArchive:
    """A bundle opened read-only: names checked, manifest parsed, files extracted on demand.

    Every extracted file is checked against the manifest's SHA-256 and size before it is given
    out, once per process (later calls return the checked path). Thread-safe: thumbnail workers
    may ask for photos concurrently. The bundle file itself is only ever read.
    """

    def __init__(self, path: Path, cache_root: Path) -> None:
        self.path = path
        self.name = path.name
        self._lock = threading.Lock()
        self._checked: set[str] = set()
        self._entry_locks: dict[str, threading.Lock] = {}
        self._file = _open_read_only(path)
        try:
            self._zip = _open_zip(self._file, self.name)
            infos = self._check_entries()
            manifest_bytes = self._read_manifest(infos)
            self.manifest = Manifest.from_json(manifest_bytes, self.name)
            self._check_listing(infos)
        except BaseException:
            self._file.close()
            raise
        # Content-addressed by the manifest, so two bundles never share a folder and the same
        # bundle opened again reuses what it extracted before (after checking it again).
        digest = hashlib.sha256(manifest_bytes).hexdigest()[:32]
        self.cache_dir = cache_root / "bundles" / digest

    def close(self) -> None:
        self._zip.close()
        self._file.close()

    def __enter__(self) -> BundleArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def extract(self, name: str) -> Path:
        """The checked copy of entry `name` in the cache folder (extracted on first use)."""
        entry = self.manifest.files.get(name)
        if entry is None:
            raise BundleCorruptError(f"{self.name} has no file {name!r}")
        target = self.cache_dir / name  # name matched the whitelist: no separators but one "/"
        with self._lock:
            if name in self._checked:
                return target
            entry_lock = self._entry_locks.setdefault(name, threading.Lock())
        with entry_lock:
            if name not in self._checked:
                if not (target.is_file() and _matches(target, entry)):
                    self._extract_checked(name, entry, target)
                with self._lock:
                    self._checked.add(name)
        return target

    def read_bytes(self, name: str) -> bytes:
        return self.extract(name).read_bytes()

    # --- checks on open --------------------------------------------------------------------

    def _check_entries(self) -> dict[str, zipfile.ZipInfo]:
        infos: dict[str, zipfile.ZipInfo] = {}
        for info in self._zip.infolist():
            reason = unsafe_entry_reason(info)
            if reason is not None:
                raise BundleUnsafeError(
                    f"{self.name} was refused: its entry {info.filename!r} has {reason}, "
                    "which could write outside the bundle's folder"
                )
            if info.filename in infos:
                raise BundleUnsafeError(
                    f"{self.name} was refused: it holds {info.filename!r} twice"
                )
            infos[info.filename] = info
        return infos

    def _read_manifest(self, infos: Mapping[str, zipfile.ZipInfo]) -> bytes:
        info = infos.get(MANIFEST_NAME)
        if info is None:
            raise BundleFormatError(
                f"{self.name} is not an Inspection Viewer offline bundle (it has no manifest)"
            )
        if info.file_size > MAX_MANIFEST_BYTES:
            raise BundleCorruptError(f"{self.name} is damaged: its manifest is implausibly large")
        with self._reading(MANIFEST_NAME), self._zip.open(info) as f:
            data = f.read(MAX_MANIFEST_BYTES + 1)
        return data

    def _check_listing(self, infos: Mapping[str, zipfile.ZipInfo]) -> None:
        listed = set(self.manifest.files)
        present = set(infos) - {MANIFEST_NAME}
        if missing := sorted(listed - present):
            raise BundleCorruptError(
                f"{self.name} is incomplete: {len(missing)} file(s) listed in its manifest are "
                f"missing, for example {missing[0]!r}"
            )
        if extra := sorted(present - listed):
            raise BundleCorruptError(
                f"{self.name} is damaged: it holds {extra[0]!r}, which its manifest does not list"
            )
        for name in listed:
            info = infos[name]
            if info.flag_bits & 0x1:
                raise BundleCorruptError(f"{self.name}: {name!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise BundleCorruptError(f"{self.name}: {name!r} uses an unsupported compression")
            if info.file_size != self.manifest.files[name].size:
                raise BundleCorruptError(
                    f"{self.name} is damaged: {name!r} has {info.file_size:,} bytes, "
                    f"its manifest says {self.manifest.files[name].size:,}"
                )

    # --- extraction ------------------------------------------------------------------------

    def _extract_checked(self, name: str, entry: FileEntry, target: Path) -> None:
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        digest = hashlib.sha256()
        size = 0
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with self._reading(name), self._zip.open(name) as src, tmp.open("xb") as dst:
                # Bounded by the manifest's size: a lying local header cannot fill the disk.
                while chunk := src.read(min(CHUNK_BYTES, entry.size - size + 1)):
                    size += len(chunk)
                    if size > entry.size:
                        break
                    digest.update(chunk)
                    dst.write(chunk)
            if size != entry.size or digest.hexdigest() != entry.sha256:
                raise BundleCorruptError(
                    f"{self.name} is damaged: {name} does not match its SHA-256 checksum; "
                    "the file was refused"
                )
            os.replace(tmp, target)
        except OSError as exc:
            raise BundleError(
                f"cannot extract {name} from {self.name} to {target.parent}: {exc.strerror or exc}"
            ) from None
        finally:
            tmp.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _reading(self, name: str) -> Iterator[None]:
        """zipfile's errors for a damaged or cut-off archive, as one message for the user."""
        try:
            yield
        except _ZIP_ERRORS as exc:
            raise BundleCorruptError(
                f"{self.name} is damaged or truncated: reading {name} failed ({exc})"
            ) from None


def _open_read_only(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise BundleError(f"no bundle at {path}") from None
    except IsADirectoryError:
        raise BundleError(f"{path} is a folder, not a bundle file") from None
    except OSError as exc:
        raise BundleError(f"cannot read {path}: {exc.strerror or exc}") from None


def _open_zip(file: IO[bytes], name: str) -> zipfile.ZipFile:
    head = file.read(4)
    file.seek(0)
    try:
        return zipfile.ZipFile(file, "r")
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        if head != b"PK\x03\x04":
            raise BundleFormatError(
                f"{name} is not an Inspection Viewer offline bundle (not a ZIP archive)"
            ) from None
        # A ZIP's table of contents is at its very end: a copy cut short has none.
        raise BundleCorruptError(
            f"{name} is truncated or damaged (its table of contents cannot be read): "
            "copy it again, or export it again"
        ) from None


def _matches(path: Path, entry: FileEntry) -> bool:
    try:
        return path.stat().st_size == entry.size and sha256_file(path) == entry.sha256
    except OSError:
        return False
