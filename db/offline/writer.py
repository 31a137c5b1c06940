"""The bundle archive being written: photos read from a MediaStore, checked, and streamed in."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from db.errors import KnownError
from db.offline.format import (
    CHUNK_BYTES,
    FileEntry,
    UnavailableMedia,
    media_entry_name,
    thumbnail_entry_name,
)
from db.storage.base import MediaDamaged, MediaStore, Problem, StorageError
from db.storage.local import error_for_os_error

log = logging.getLogger(__name__)

Thumbnailer = Callable[[Path], bytes | None]  # original photo -> PNG bytes, None if undecodable


class ExportCancelled(KnownError):
    """The user cancelled an export; nothing was written."""


class BundleWriter:
    """The archive being written: entries so far, and what the manifest will say about them."""

    def __init__(
        self,
        zf: zipfile.ZipFile,
        store: MediaStore,
        cancelled: Callable[[], bool],
        thumbnailer: Thumbnailer | None,
    ) -> None:
        self.zf = zf
        self.store = store
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
            source = self.store.local_path(key)
            src = _open_source(key, source)
        except StorageError as exc:
            self._unavailable(rows, *_unavailable_reason(exc))
            return
        with src:
            try:
                # Hash first, copy second: the entry is named by its content, and a file that is
                # not what its rows say must not go in at all. The copy reads the page cache.
                actual, size = _hash_stream(src, self.cancelled)
            except OSError as exc:
                self._unavailable(rows, *_unavailable_reason(error_for_os_error(key, exc)))
                return
            good = self._matching_rows(rows, actual, size)
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

    def _matching_rows(
        self, rows: Sequence[Mapping[str, Any]], actual: str, size: int
    ) -> list[Mapping[str, Any]]:
        """The rows the file's bytes belong to; the others are recorded as unavailable."""
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
        return [r for r in rows if r["sha256"] == actual]

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


def _open_source(key: str, path: Path) -> IO[bytes]:
    """The store's local copy of a photo, opened; StorageError for what makes it unusable."""
    try:
        src = path.open("rb")
    except OSError as exc:
        raise error_for_os_error(key, exc) from exc
    if not stat.S_ISREG(os.fstat(src.fileno()).st_mode):
        src.close()
        raise MediaDamaged(key, "Not a regular file")
    return src


def _unavailable_reason(exc: StorageError) -> tuple[str, str]:
    """The manifest's reason and detail for a photo the store could not deliver."""
    if exc.problem is Problem.MISSING:
        return "missing", "the file was missing from storage at export"
    return "unreadable", f"{exc.reason[:1].lower()}{exc.reason[1:]} at export"


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
