"""DownloadCache: objects fetched from a remote store, kept on local disk, bounded in bytes (LRU).

Files are stored under their (checked) object keys below the cache's folder, so a decoder's
message names the photo. A download first reserves its size: what is on disk plus what is
being downloaded never exceeds `max_bytes`, evicting the least recently used files to make
room. Recency survives restarts through the files' access times (the modification time is
left alone: the disk thumbnail cache checks it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from db.storage.base import MediaTooLarge, check_key

log = logging.getLogger(__name__)

DEFAULT_CACHE_BYTES = 2 * 1024**3
_PARTIAL = ".partial-"
# How long a download waits for others to make room in a cache smaller than what is in flight.
ROOM_WAIT_S = 60.0
# A file just handed out is not evicted for this long: its reader opens it right away (a
# thumbnail worker), and must not find it gone because another download needed the room.
PIN_S = 0.5


@dataclass(frozen=True, slots=True)
class CacheStats:
    files: int
    bytes: int  # on disk, complete files
    reserved: int  # being downloaded
    peak_bytes: int  # the most ever on disk plus reserved: never over max_bytes
    max_bytes: int
    hits: int
    misses: int
    evictions: int


class DownloadCache:
    """Thread-safe within one process (the thumbnail workers share it)."""

    def __init__(
        self, root: Path, max_bytes: int = DEFAULT_CACHE_BYTES, *, pin_s: float = PIN_S
    ) -> None:
        if max_bytes < 1:
            raise ValueError(f"the cache needs at least one byte, got {max_bytes}")
        self.root = root
        self.max_bytes = max_bytes
        self.pin_s = pin_s
        self._lock = threading.Lock()
        self._room_freed = threading.Condition(self._lock)
        self._files: OrderedDict[str, int] = OrderedDict()  # key -> size, oldest use first
        self._pinned: dict[str, float] = {}  # key -> monotonic time its pin ends
        self._used = 0
        self._reserved = 0
        self._peak = 0
        self._hits = self._misses = self._evictions = 0
        self.root.mkdir(parents=True, exist_ok=True)
        self._scan()

    def _scan(self) -> None:
        found: list[tuple[float, str, int]] = []
        for path in self.root.rglob("*"):
            if path.name.startswith(_PARTIAL):  # left by a killed process
                with contextlib.suppress(OSError):
                    path.unlink()
                continue
            with contextlib.suppress(OSError):
                info = path.lstat()
                if path.is_file() and not path.is_symlink():
                    found.append(
                        (info.st_atime, path.relative_to(self.root).as_posix(), info.st_size)
                    )
        for _, key, size in sorted(found):
            self._files[key] = size
            self._used += size
        with self._lock:
            self._make_room(0)
            self._peak = self._used

    def path_of(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key))

    def get(self, key: str) -> Path | None:
        """The cached file, now the most recently used; None if not cached."""
        with self._lock:
            size = self._files.get(key)
            if size is None:
                self._misses += 1
                return None
            self._files.move_to_end(key)
            self._pin(key)
            self._hits += 1
        path = self.path_of(key)
        try:
            info = path.stat()
            os.utime(path, (time.time(), info.st_mtime))
        except OSError:  # removed behind our back
            with self._lock:
                if self._files.pop(key, None) is not None:
                    self._used -= size
            return None
        return path

    @contextlib.contextmanager
    def download(self, key: str, size: int) -> Iterator[tuple[Path, Path]]:
        """Reserve room for `size` bytes: yields (a temporary file to fill, the final path).
        The caller renames the temporary file into place; otherwise it is removed."""
        final = self.path_of(key)
        with self._lock:
            if size > self.max_bytes:
                raise MediaTooLarge(
                    key,
                    f"Object of {size / 1e6:.0f} MB is larger than the local media cache "
                    f"({self.max_bytes / 1e6:.0f} MB)",
                )
            self._make_room(size)
            self._reserved += size
            self._peak = max(self._peak, self._used + self._reserved)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, raw = tempfile.mkstemp(prefix=_PARTIAL, dir=final.parent)
        os.close(fd)
        partial = Path(raw)
        try:
            yield partial, final
        finally:
            landed = final.is_file() and not partial.exists()
            with contextlib.suppress(OSError):
                partial.unlink()
            with self._lock:
                self._reserved -= size
                self._room_freed.notify_all()
                if landed:
                    old = self._files.pop(key, None)
                    self._used += size - (old or 0)
                    self._files[key] = size
                    self._pin(key)

    def add(self, key: str, data: bytes) -> None:
        """Keep bytes we already have (a thumbnail we published) as a cached object."""
        with self.download(key, len(data)) as (partial, final):
            partial.write_bytes(data)
            os.replace(partial, final)

    def forget(self, key: str) -> None:
        """Drop a cached object (it was replaced or deleted in the store)."""
        with self._lock:
            size = self._files.pop(key, None)
            if size is None:
                return
            self._used -= size
            self._room_freed.notify_all()
        with contextlib.suppress(OSError):
            self.path_of(key).unlink()

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                len(self._files),
                self._used,
                self._reserved,
                self._peak,
                self.max_bytes,
                self._hits,
                self._misses,
                self._evictions,
            )

    def _pin(self, key: str) -> None:
        """Under the lock."""
        now = time.monotonic()
        if len(self._pinned) > 4096:
            self._pinned = {k: t for k, t in self._pinned.items() if t > now}
        self._pinned[key] = now + self.pin_s

    def _make_room(self, size: int) -> None:
        """Under the lock: evict least recently used files (not pinned) until `size` more bytes
        fit; if only pinned files and downloads in flight hold the room, wait (bounded)."""
        deadline = time.monotonic() + ROOM_WAIT_S
        while self._used + self._reserved + size > self.max_bytes:
            now = time.monotonic()
            victim = next((k for k in self._files if self._pinned.get(k, 0.0) <= now), None)
            if victim is not None:
                self._used -= self._files.pop(victim)
                self._pinned.pop(victim, None)
                self._evictions += 1
                with contextlib.suppress(OSError):
                    self.path_of(victim).unlink()
                continue
            left = deadline - now
            if left <= 0:
                raise MediaTooLarge("", "The local media cache is full of downloads in progress")
            pins = [t for k, t in self._pinned.items() if k in self._files and t > now]
            self._room_freed.wait(min(left, (min(pins) - now) if pins else left) + 0.001)
