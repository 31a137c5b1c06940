"""The MediaStore interface and the one classification of storage failures.

A store maps a storage key (``demo/ab/abcd.jpg``, as kept in ``media.storage_key``) to bytes.
It is shaped for a store that is remote and slow: every method may block on I/O, the ``a``-prefixed
ones do so without blocking the event loop, and every failure a user can act on is one of the
StorageError subclasses below, decided here and nowhere else.

Blocking methods are thread-safe: thumbnail workers and the bundle export call them from their
threads. The async ones run on the caller's loop and can be cancelled (a cancelled read of a
local file finishes in its thread; the result is discarded).
"""

from __future__ import annotations

import asyncio
import enum
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from db.errors import KnownError

# Keys are relative paths with "/" separators; anything else is refused before any I/O.
MAX_KEY_LENGTH = 1024


class Problem(enum.StrEnum):
    """Why a store could not deliver; the UI picks its placeholder by it."""

    MISSING = "missing"
    FORBIDDEN = "forbidden"
    UNREACHABLE = "unreachable"
    DAMAGED = "damaged"
    TOO_LARGE = "too_large"
    READ_ONLY = "read_only"


class StorageError(KnownError):
    """A photo the store cannot deliver; the message names the key, never a credential."""

    problem: Problem = Problem.UNREACHABLE

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{reason}: {key}" if key else reason)
        self.key = key
        self.reason = reason


class MediaMissing(StorageError):
    problem = Problem.MISSING


class MediaForbidden(StorageError):
    problem = Problem.FORBIDDEN


class StoreUnreachable(StorageError):
    problem = Problem.UNREACHABLE


class MediaDamaged(StorageError):
    """The bytes are there but wrong: a checksum mismatch, not a regular file, a bad key."""

    problem = Problem.DAMAGED


class MediaTooLarge(StorageError):
    problem = Problem.TOO_LARGE


class StoreReadOnly(StorageError):
    problem = Problem.READ_ONLY


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int
    modified: float  # seconds since the epoch


def check_key(key: str) -> tuple[str, ...]:
    """The key's path parts, or MediaDamaged for a key that could escape its store."""
    if not key or len(key) > MAX_KEY_LENGTH or "\x00" in key or "\\" in key:
        raise MediaDamaged(key[:80], "Not a valid storage key")
    parts = tuple(key.split("/"))
    if key.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise MediaDamaged(key[:80], "Storage key points outside the media store")
    return parts


class MediaStore(ABC):
    """Photos by storage key. One implementation per kind of store; callers never ask which."""

    #: For people: where the photos are (credentials masked).
    display: str = ""
    #: Whether `write` can succeed at all (a bundle is read-only).
    writable: bool = False

    @abstractmethod
    def stat(self, key: str) -> ObjectInfo: ...

    @abstractmethod
    def read(self, key: str, max_bytes: int | None = None) -> bytes:
        """The whole object; MediaTooLarge past `max_bytes` (checked before reading)."""

    @abstractmethod
    def read_range(self, key: str, start: int, length: int) -> bytes: ...

    @abstractmethod
    def local_path(self, key: str) -> Path:
        """A local file with the object's bytes, for decoders that read files (a remote store
        downloads it into its cache first)."""

    def describe(self, key: str) -> str:
        """Where this key's photo is, for people (a path, a bundle entry, a URL)."""
        return f"{self.display}: {key}"

    def ready_thumbnail(self, sha256: str, size_px: int) -> Path | None:
        """A local file with a ready-made thumbnail of the photo with this SHA-256, at least
        `size_px` on its long edge, if the store keeps one (a bundle's PNGs; later a team
        tier in the bucket). Blocking. None: decode the original."""
        return None

    def ready_thumbnail_data(self, sha256: str, size_px: int) -> bytes | None:
        """The bytes of `ready_thumbnail` (a remote store fetches them into memory and keeps
        its local copy in the background, off the caller's path). Blocking."""
        path = self.ready_thumbnail(sha256, size_px)
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError:  # gone or unreadable: the original is still there to decode
            return None

    def tier_size(self, size_px: int) -> int | None:
        """The size of the team thumbnail tier's thumbnails that serve `size_px` (a remote
        store keeps one in the bucket); None: this store has no tier."""
        return None

    def wants_thumbnail(self, sha256: str, size_px: int) -> bool:
        """Whether `offer_thumbnail` would publish this one (the tier is writable and the
        store does not know it to be there). Cheap; no I/O."""
        return False

    def offer_thumbnail(self, sha256: str, size_px: int, data: bytes) -> None:  # noqa: B027
        """A JPEG thumbnail, `size_px` on its long edge, of the photo with this SHA-256, for
        the team tier: published in the background, never blocking the caller."""

    def list_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with `prefix` (for `media status` and `media push`)."""
        raise StoreReadOnly(prefix, "This media store cannot list its objects")

    def write(self, key: str, data: bytes) -> None:
        raise StoreReadOnly(key, "This media store is read-only")

    def delete(self, key: str) -> None:
        """Remove an object if it is there (the demo replaces its deliberately bad files)."""
        raise StoreReadOnly(key, "This media store is read-only")

    def close(self) -> None:  # noqa: B027 - most stores hold nothing to release
        """Release what the store holds; blocking."""

    async def aread(self, key: str, max_bytes: int | None = None) -> bytes:
        return await asyncio.to_thread(self.read, key, max_bytes)

    async def aread_range(self, key: str, start: int, length: int) -> bytes:
        return await asyncio.to_thread(self.read_range, key, start, length)

    async def astat(self, key: str) -> ObjectInfo:
        return await asyncio.to_thread(self.stat, key)

    async def awrite(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self.write, key, data)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.display}>"
