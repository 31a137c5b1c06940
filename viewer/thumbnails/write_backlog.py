"""Disk-cache writes put off until the workers are idle, and the ones being written now."""

from __future__ import annotations

from collections import OrderedDict

from viewer.thumbnails.requests import DiskWrite

# Decoded thumbnails waiting to be written to the disk cache while decodes are pending.
DEFAULT_WRITE_BACKLOG_BYTES = 32 * 1024 * 1024

Target = tuple[str, int]


class WriteBacklog:
    """Thumbnails decoded but not yet on disk. Not thread-safe: used under the service's lock.

    Writing a PNG costs about a quarter of a scaled JPEG decode; the user waiting for the next
    thumbnail should not pay it, so a write can wait here for idle time. The backlog is bounded
    in bytes (it keeps images alive that the memory cache may have evicted). A write in either
    state can be found by its target, so a decode can be served from here before it is written.
    """

    def __init__(self, limit_bytes: int = DEFAULT_WRITE_BACKLOG_BYTES) -> None:
        self._limit_bytes = limit_bytes
        self._pending: OrderedDict[Target, DiskWrite] = OrderedDict()  # oldest first
        self._pending_bytes = 0
        self._writing: dict[Target, DiskWrite] = {}

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def busy(self) -> bool:
        """Some write is waiting or under way."""
        return bool(self._pending or self._writing)

    def find(self, target: Target) -> DiskWrite | None:
        return self._pending.get(target) or self._writing.get(target)

    def defer(self, write: DiskWrite) -> bool:
        """Keep `write` for later if the byte limit allows; False: write it now."""
        size = write.image.sizeInBytes()
        if self._pending_bytes + size > self._limit_bytes:
            return False
        replaced = self._pending.pop(write.target, None)
        if replaced is not None:
            self._pending_bytes -= replaced.image.sizeInBytes()
        self._pending[write.target] = write
        self._pending_bytes += size
        return True

    def start_oldest(self) -> DiskWrite | None:
        """The oldest deferred write, now being written (None if none waits)."""
        if not self._pending:
            return None
        _, write = self._pending.popitem(last=False)
        self._pending_bytes -= write.image.sizeInBytes()
        self._writing[write.target] = write
        return write

    def start(self, write: DiskWrite) -> None:
        """`write` is being written now, without waiting in the backlog."""
        self._writing[write.target] = write

    def done(self, write: DiskWrite) -> None:
        if self._writing.get(write.target) is write:
            del self._writing[write.target]
