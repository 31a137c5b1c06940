"""The offline bundle format (.ivbundle): entry names, the manifest, and the bundle errors."""

# Layout of format version 1 (entry names are exactly these; anything else is refused):
#
#     inspections.sqlite          the inspections, checklist_items and media tables (schema.py)
#                                 for the chosen inspections; live media rows only. Deflated.
#     media/<sha256>.<ext>        each photo file once, deduplicated by content. Stored.
#     thumbnails/<sha256>.png     256 px PNG thumbnail of that photo, when it could be decoded.
#     manifest.json               written last: format, format_version, app_version, created_at,
#                                 source (database URL, password masked), inspections, counts,
#                                 files (entry -> sha256 and size), media (storage key -> entry)
#                                 unavailable (media rows whose file could not be exported),
#                                 database_id and review_seq (for syncing reviews back).
#
# Why a ZIP around a small SQLite file rather than photo blobs inside SQLite:
# - photos are JPEGs already: stored ZIP entries add ~100 bytes each, and any unzip tool can list
#   and extract them; blobs would cost overflow-page slack and, written through the journal,
#   twice the I/O on export;
# - the export streams one photo at a time into an append-only archive and finalises it with the
#   central directory; a bundle cut short has no central directory and is recognised at once;
# - the bundle is never written to when opened: SQLite wants a real file next to which it may
#   create journal files, so the (small) database is extracted to the app's cache and opened
#   read-only there, and photos are extracted on first view, each checked against its SHA-256.

from __future__ import annotations

import importlib.metadata
import json
import re
import stat
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

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

SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
_MEDIA_ENTRY = re.compile(r"media/[0-9a-f]{64}\.[a-z0-9]{1,8}")
_THUMBNAIL_ENTRY = re.compile(r"thumbnails/[0-9a-f]{64}\.png")
_EXTENSION = re.compile(r"[a-z0-9]{1,8}")
_DRIVE = re.compile(r"[A-Za-z]:")
_MIME_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/heic": "heic",
    "image/webp": "webp",
    "image/tiff": "tif",
}


# --- errors ----------------------------------------------------------------------------------


class BundleError(KnownError):
    """A bundle that cannot be opened or read; the message says why and what to do."""


class BundleFormatError(BundleError):
    """Not a bundle, an unknown format version, or one made by a newer app."""


class BundleCorruptError(BundleError):
    """Truncated, damaged or inconsistent: a checksum or size does not match the manifest."""


class BundleChecksumError(BundleCorruptError):
    """An entry whose bytes are not the ones the manifest lists (its SHA-256 or size differ)."""


class BundleUnsafeError(BundleError):
    """Entries that would be written outside their folder (path traversal, links): refused."""


class BundleTooLargeError(BundleError):
    """An entry, or the bundle as a whole, would expand past one of the BundleLimits."""


# --- limits of our own -----------------------------------------------------------------------

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BundleLimits:
    """What one bundle may make the app write to its cache, whatever its manifest claims.

    A bundle is an untrusted file: a small deflated entry can expand a thousandfold, so each
    extraction is bounded by these, checked before it starts and again while it streams.
    """

    database_bytes: int = 512 * MB
    # The thumbnail decoder's own file limit (viewer.thumbnails.decode.DEFAULT_MAX_FILE_BYTES):
    # a larger photo could never be shown, so it is never extracted either.
    media_bytes: int = 256 * MB
    thumbnail_bytes: int = 2 * MB  # a 256 px PNG is ~0.1 MB
    # All entries of one bundle together: at most the bundle file's own size plus this. Photos
    # are stored uncompressed, so only the deflated database can make a bundle grow at all.
    expansion_bytes: int = 512 * MB
    # The folder of extracted bundles (<cache>/bundles), pruned least recently used first.
    cache_bytes: int = 2048 * MB

    def for_entry(self, name: str) -> int:
        """The most bytes entry `name` may extract to."""
        if name == DATABASE_NAME:
            return self.database_bytes
        if name.startswith("thumbnails/"):
            return self.thumbnail_bytes
        return self.media_bytes


def megabytes(n: int) -> str:
    """A size for messages, in the binary megabytes the limits are set in."""
    if n < MB:
        return f"{n:,} bytes"
    return f"{n / MB:,.1f}".removesuffix(".0") + " MB"


# --- entry names -------------------------------------------------------------------------------


def unsafe_entry_reason(info: zipfile.ZipInfo) -> str | None:
    """Why an archive entry could escape its target folder (a clause: "its name is an absolute
    path"), or None if it is harmless."""
    name = info.filename
    if "\x00" in name:
        return "its name has a NUL byte"
    if "\\" in name:
        return "its name has a backslash"
    if name.startswith("/"):
        return "its name is an absolute path"
    if _DRIVE.match(name):
        return "its name starts with a drive letter"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "its name has an empty, '.' or '..' path component"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "it is a symbolic link"
    return None


def refused_entry_message(bundle_name: str, subject: str, reason: str) -> str:
    """The one wording of an unsafe entry, for the archive's entries and the manifest's alike."""
    return f"{bundle_name} was refused: {subject} could write outside its folder ({reason})"


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
    # The source database's identity (revision 0004) and its newest review record at export:
    # sync refuses another database's bundle and finds verdicts recorded after the export.
    # Optional: older bundles have neither (and cannot be synced).
    database_id: str | None = None
    review_seq: int = 0
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
            "database_id": self.database_id,
            "review_seq": self.review_seq,
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
        if not SHA256_PATTERN.fullmatch(sha) or size < 0:
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
        database_id=_optional_uuid(doc.get("database_id")),
        review_seq=int(doc.get("review_seq", 0)),
    )


def _optional_uuid(value: Any) -> str | None:
    return None if value is None else str(uuid.UUID(str(value)))


def _check_listed_name(name: str, bundle_name: str) -> None:
    # The manifest names entries too: the same rule as for the archive's own names.
    reason = unsafe_entry_reason(zipfile.ZipInfo(name))
    if reason is not None:
        raise BundleUnsafeError(
            refused_entry_message(bundle_name, f"the file {name!r} in its manifest", reason)
        )
    if name == MANIFEST_NAME or not is_known_entry(name):
        raise ValueError(f"unexpected file {name!r}")
