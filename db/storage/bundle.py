"""BundleStore: the photos of an opened offline bundle, by their original storage keys."""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath

from db.offline.archive import BundleArchive
from db.offline.format import (
    SHA256_PATTERN,
    THUMBNAIL_SIZE_PX,
    BundleChecksumError,
    BundleCorruptError,
    BundleError,
    BundleTooLargeError,
    UnavailableMedia,
    thumbnail_entry_name,
)
from db.storage.base import (
    MediaDamaged,
    MediaMissing,
    MediaStore,
    MediaTooLarge,
    ObjectInfo,
    StoreUnreachable,
    check_key,
)
from db.storage.local import error_for_os_error

log = logging.getLogger(__name__)


# Why a photo listed as unavailable in the manifest is not there: its bytes were wrong at
# export (damaged), or the source could not deliver it (missing, as far as the bundle goes).
_DAMAGED_AT_EXPORT = frozenset({"checksum_mismatch", "empty"})


class BundleStore(MediaStore):
    """Read-only; each photo is extracted to the bundle's cache folder and checked against its
    SHA-256 on first use (BundleArchive.extract), within the archive's BundleLimits. The
    archive belongs to the opened bundle, which closes it.

    `local_path`, `read`, `read_range`, `stat` and `ready_thumbnail` may extract (blocking I/O,
    up to a photo's limit): the app calls them from the thumbnail workers, never the GUI thread.
    """

    writable = False

    def __init__(self, archive: BundleArchive) -> None:
        self.archive = archive
        self.display = f"Offline bundle: {archive.name}"
        self._unavailable: dict[str, UnavailableMedia] = {}
        for gone in archive.manifest.unavailable:
            self._unavailable.setdefault(gone.storage_key, gone)

    def local_path(self, key: str) -> Path:
        entry = self._entry(key)
        try:
            return self.archive.extract(entry)
        except BundleChecksumError:
            raise MediaDamaged(
                key,
                f"Photo {PurePosixPath(key).name} is damaged: it does not match its checksum "
                f"(SHA-256) in {self.archive.name}",
            ) from None
        except BundleCorruptError as exc:
            raise MediaDamaged(key, str(exc)) from None
        except BundleTooLargeError as exc:
            raise MediaTooLarge(key, str(exc)) from None
        except BundleError as exc:  # the cache folder cannot be written
            raise StoreUnreachable(key, str(exc)) from None

    def ready_thumbnail(self, sha256: str, size_px: int) -> Path | None:
        """The export's 256 px PNG of the photo, for sizes it serves."""
        if size_px > THUMBNAIL_SIZE_PX or not SHA256_PATTERN.fullmatch(sha256):
            return None
        name = thumbnail_entry_name(sha256)
        if name not in self.archive.manifest.files:
            return None
        try:
            return self.archive.extract(name)
        except BundleError as exc:  # the original is still there to decode
            log.warning("%s", exc)
            return None

    def stat(self, key: str) -> ObjectInfo:
        path = self.local_path(key)
        try:
            info = path.stat()
        except OSError as exc:
            raise error_for_os_error(key, exc) from exc
        return ObjectInfo(key, info.st_size, self.archive.manifest.created_at.timestamp())

    def read(self, key: str, max_bytes: int | None = None) -> bytes:
        size = self.archive.manifest.files[self._entry(key)].size
        if max_bytes is not None and size > max_bytes:
            raise MediaTooLarge(
                key, f"File of {size / 1e6:.0f} MB is over the {max_bytes / 1e6:.0f} MB limit"
            )
        path = self.local_path(key)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise error_for_os_error(key, exc) from exc

    def read_range(self, key: str, start: int, length: int) -> bytes:
        if start < 0 or length < 0:
            raise ValueError("start and length must not be negative")
        path = self.local_path(key)
        try:
            with path.open("rb") as f:
                f.seek(start)
                return f.read(length)
        except OSError as exc:
            raise error_for_os_error(key, exc) from exc

    def _entry(self, key: str) -> str:
        """The bundle entry of a key; MediaMissing for a photo that was not taken offline."""
        check_key(key)
        entry = self.archive.manifest.media.get(key)
        if entry is None:
            gone = self._unavailable.get(key)
            name = PurePosixPath(key).name
            if gone is not None and gone.reason in _DAMAGED_AT_EXPORT:
                raise MediaDamaged(
                    key, f"Photo {name} is damaged and was not taken offline: {gone.detail}"
                )
            why = gone.detail if gone is not None else "it is not in this bundle"
            raise MediaMissing(key, f"Photo {name} was not taken offline: {why}")
        return entry
