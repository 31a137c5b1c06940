"""One request made into a thumbnail in a worker: the store's file, the disk cache, a decode."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from viewer.thumbnails.budget import DecodeBudget, Reservation, Withdrawn
from viewer.thumbnails.decode import (
    DEFAULT_MAX_PIXELS,
    ErrorKind,
    ThumbnailError,
    decode_bytes,
    error_for_os_error,
    estimated_decode_bytes,
    read_original,
)
from viewer.thumbnails.disk_cache import DiskThumbnailCache, OriginalFile, flavour_for
from viewer.thumbnails.export import jpeg_bytes
from viewer.thumbnails.requests import DiskWrite, Outcome, Source, ThumbnailRequest
from viewer.thumbnails.write_backlog import Target

log = logging.getLogger(__name__)

# Larger sizes skip the disk cache. Measured on the demo's 12 MP JPEGs: a 1024 px PNG takes
# about 50 ms to write and 20 ms to read back, against 25-50 ms to decode the original at that
# size, so the xx-large flavour would slow the preview down; 256 px: 3 ms write, 2 ms read,
# against 8-30 ms of decoding.
DEFAULT_DISK_MAX_PX = 512

# Reserves decode memory for a worker: DecodeBudget.reserve, or the service's wrapper that
# pauses the worker's time budget while it waits.
Reserve = Callable[[int], Reservation]


class ThumbnailMaker:
    """Thread-safe and GUI-free: every worker calls `produce` on the one instance.

    `find_pending` looks up a thumbnail decoded but not yet written to the disk cache.
    """

    def __init__(
        self,
        disk_cache: DiskThumbnailCache | None,
        budget: DecodeBudget,
        find_pending: Callable[[Target], DiskWrite | None],
        *,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        disk_max_px: int = DEFAULT_DISK_MAX_PX,
    ) -> None:
        self.disk_cache = disk_cache
        self.budget = budget
        self.max_pixels = max_pixels
        self.disk_max_px = disk_max_px
        self._find_pending = find_pending

    def produce(
        self, request: ThumbnailRequest, reserve: Reserve | None = None
    ) -> tuple[Outcome, DiskWrite | None] | None:
        """The outcome of `request` and the disk write it calls for; None if stopping."""
        started = time.perf_counter()
        try:
            image, source, seconds, write = self._make(request, reserve or self.budget.reserve)
        except Withdrawn:
            return None
        except ThumbnailError as exc:
            elapsed = time.perf_counter() - started
            return Outcome(request.key, None, None, elapsed, exc.kind, exc.reason), None
        except Exception as exc:  # a bug: keep the worker alive, log the traceback
            log.exception(
                "thumbnail of media %s (%s) failed", request.media_id, request.storage_key
            )
            elapsed = time.perf_counter() - started
            reason = f"Unexpected error: {exc!r}"
            return Outcome(request.key, None, None, elapsed, ErrorKind.INTERNAL, reason), None
        return Outcome(request.key, image, source, seconds), write

    def _make(
        self, request: ThumbnailRequest, reserve: Reserve
    ) -> tuple[QImage, Source, float, DiskWrite | None]:
        ready = self._ready(request, reserve)
        if ready is not None:
            return ready
        flavour = (
            flavour_for(request.size_px)
            if self.disk_cache is not None and request.size_px <= self.disk_max_px
            else None
        )
        original: OriginalFile | None = None
        path = request.original_file()
        if self.disk_cache is not None and flavour is not None:
            started = time.perf_counter()
            try:
                original = OriginalFile.from_path(path)
            except OSError as exc:
                raise error_for_os_error(exc) from exc
            if original.size == 0:
                raise ThumbnailError(ErrorKind.EMPTY, "Empty file (0 bytes)")
            # The standard: no thumbnail of a file the user may no longer read.
            if not os.access(original.path, os.R_OK):
                raise ThumbnailError(ErrorKind.UNREADABLE, "Permission denied")
            pending = self._find_pending((original.uri, flavour.size_px))
            # Decoded but not yet written: as good as on disk, if the original is unchanged.
            image = (
                pending.image
                if pending is not None and pending.original == original
                else self.disk_cache.load(original, request.size_px)
            )
            if image is not None:
                seconds = time.perf_counter() - started
                return _fit(image, request.size_px), Source.DISK, seconds, None
        size = flavour.size_px if flavour is not None else request.size_px
        started = time.perf_counter()
        data = read_original(path)  # its size is in the estimate: read once, decoded from here
        read_seconds = time.perf_counter() - started
        with self._decode_memory(data, size, reserve):
            started = time.perf_counter()
            image = decode_bytes(data, size, self.max_pixels)
            seconds = read_seconds + time.perf_counter() - started
        write = None if original is None else DiskWrite(original, image, request.size_px, size)
        _offer_to_tier(request, image, size)
        return _fit(image, request.size_px), Source.DECODE, seconds, write

    def _ready(
        self, request: ThumbnailRequest, reserve: Reserve
    ) -> tuple[QImage, Source, float, None] | None:
        """The store's ready-made thumbnail, decoded (already small: not put in the disk
        cache, whose copy would cost more to write than this to decode); None if there is
        none, or if it does not decode (a damaged or foreign tier object: the original will)."""
        started = time.perf_counter()
        data = request.ready_data()
        if data is None:
            return None
        try:
            with self._decode_memory(data, request.size_px, reserve):
                image = decode_bytes(data, request.size_px, self.max_pixels)
        except ThumbnailError as exc:
            log.warning("ready-made thumbnail of media %s ignored: %s", request.media_id, exc)
            return None
        seconds = time.perf_counter() - started
        return _fit(image, request.size_px), Source.DISK, seconds, None

    @contextmanager
    def _decode_memory(self, data: bytes, size_px: int, reserve: Reserve) -> Iterator[None]:
        """Hold the decode's estimated memory (from the header) in the shared budget while it
        runs: waits while others hold too much; more than the whole budget fails as too large.
        """
        reservation = reserve(estimated_decode_bytes(data, size_px, self.max_pixels))
        try:
            yield
        finally:
            self.budget.release(reservation)


def _offer_to_tier(request: ThumbnailRequest, image: QImage, decoded_px: int) -> None:
    """The first client to decode a photo gives the store's team tier its thumbnail (a small
    JPEG, published in the background; a store without a tier, or one that refused a write,
    does not want it)."""
    store = request.store
    tier_px = store.tier_size(request.size_px) if request.sha256 else None
    if (
        tier_px is None
        or decoded_px < tier_px
        or not store.wants_thumbnail(request.sha256, tier_px)
    ):
        return
    data = jpeg_bytes(_fit(image, tier_px))
    if data is not None:
        store.offer_thumbnail(request.sha256, tier_px, data)


def _fit(image: QImage, size_px: int) -> QImage:
    if max(image.width(), image.height()) <= size_px:
        return image
    return image.scaled(
        size_px,
        size_px,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
