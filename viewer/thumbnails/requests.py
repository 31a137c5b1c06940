"""What the thumbnail service is asked for and what it answers: requests, stats, worker records."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QImage

from db.stats import percentile
from db.storage import LocalStore, MediaStore, StorageError
from viewer.thumbnails.cache import CacheStats, ThumbnailKey
from viewer.thumbnails.decode import ErrorKind, error_for_storage
from viewer.thumbnails.disk_cache import OriginalFile

GRID_SIZE = 256
PREVIEW_SIZE = 1024


class Source(enum.StrEnum):
    """Where a delivered thumbnail came from (the memory cache answers synchronously).

    DISK includes a thumbnail decoded moments ago and still waiting to be written, and a
    store's ready-made one (the team tier's, a bundle's): neither is an original decoded.
    """

    DISK = "disk"
    DECODE = "decode"


@dataclass(frozen=True, slots=True)
class ThumbnailRequest:
    """One photo at one size; its bytes come from `store` (a worker asks it for a file)."""

    media_id: int
    store: MediaStore
    storage_key: str
    sha256: str = ""  # lets a store hand out a ready-made thumbnail
    size_px: int = GRID_SIZE

    @classmethod
    def for_file(cls, media_id: int, path: Path, size_px: int = GRID_SIZE) -> ThumbnailRequest:
        """A request for a file outside any media store (benchmarks and tests)."""
        return cls(media_id, LocalStore(path.parent), path.name, size_px=size_px)

    @property
    def key(self) -> ThumbnailKey:
        return (self.media_id, self.size_px)

    def ready_data(self) -> bytes | None:
        """Blocking, in a worker: the bytes of a ready-made thumbnail (the team tier's, a
        bundle's) if the store has one for this size; None: decode the original."""
        if not self.sha256:
            return None
        try:
            return self.store.ready_thumbnail_data(self.sha256, self.size_px)
        except StorageError as exc:
            raise error_for_storage(exc) from exc

    def original_file(self) -> Path:
        """Blocking, in a worker: the original's file (a remote store downloads it first)."""
        try:
            return self.store.local_path(self.storage_key)
        except StorageError as exc:
            raise error_for_storage(exc) from exc

    def source_file(self) -> Path:
        """Blocking, in a worker: a ready-made thumbnail if the store has one, else the
        original's file. Storage failures become the thumbnail error a placeholder shows."""
        if self.sha256:
            try:
                ready = self.store.ready_thumbnail(self.sha256, self.size_px)
            except StorageError as exc:
                raise error_for_storage(exc) from exc
            if ready is not None:
                return ready
        return self.original_file()


@dataclass(frozen=True, slots=True)
class ThumbnailStats:
    """A snapshot of the service's counters, for tests, the log and a performance panel."""

    requests: int
    memory_hits: int
    disk_hits: int
    decodes: int  # originals decoded successfully
    coalesced: int  # requests answered by a decode already queued or running
    cancelled: int  # queued requests dropped before any work was done for them
    stale_results: int  # finished after their generation ended: cached, not delivered
    errors: Mapping[str, int]  # by ErrorKind value
    queued: int
    in_flight: int
    pending_writes: int  # disk thumbnails decoded, to be written when the workers are idle
    workers: int
    decode_seconds: tuple[float, ...]  # recent original decodes, oldest first
    cache: CacheStats
    decode_bytes_reserved: int  # estimated memory of the decodes running now
    decode_bytes_peak: int  # the most ever reserved at once: never over the decode budget
    decode_memory_waits: int  # decodes that waited for others to release memory
    workers_lost: int  # given up on over the time budget (each replaced by a new worker)

    @property
    def errors_total(self) -> int:
        return sum(self.errors.values())

    def decode_percentile(self, percent: float) -> float | None:
        """Percentile of the recent decode times in seconds (db.metrics' one definition)."""
        return percentile(sorted(self.decode_seconds), percent / 100)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A worker's answer, carried to the GUI thread by a queued signal."""

    key: ThumbnailKey
    image: QImage | None
    source: Source | None
    seconds: float
    kind: ErrorKind | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DiskWrite:
    """A decoded thumbnail on its way to the disk cache."""

    original: OriginalFile
    image: QImage
    size_px: int
    flavour_px: int

    @property
    def target(self) -> tuple[str, int]:
        """One disk thumbnail: rows sharing a file (as the demo's do) share it too."""
        return (self.original.uri, self.flavour_px)
