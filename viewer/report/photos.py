"""Photos for print: each decoded at the size it is printed (upright, never upscaled) by the
thumbnail decoder, in worker threads a little ahead of the page being drawn.

A photo that cannot be had (missing, damaged, not an image, too large) becomes a PhotoProblem
with the reason, which the page draws as a labelled placeholder: it never stops the report.
The PDF engine stores each image as a JPEG of these pixels, never the original file.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from db.records import MediaItem
from db.storage import MediaStore
from viewer.thumbnails.budget import DEFAULT_DECODE_MEMORY_BYTES, DecodeBudget, Withdrawn
from viewer.thumbnails.decode import (
    ErrorKind,
    ThumbnailError,
    decode_bytes,
    estimated_decode_bytes,
    read_original,
)
from viewer.thumbnails.placeholder import LABELS
from viewer.thumbnails.requests import ThumbnailRequest

log = logging.getLogger(__name__)

# Decodes run this far ahead of the page being drawn: enough to keep the workers busy, few
# enough that the decoded images waiting (about 0.35 MB each) stay a few MB.
LOOKAHEAD = 24


@dataclass(frozen=True, slots=True)
class PhotoProblem:
    """Why a photo is not in the report: a short label and the reason."""

    label: str
    reason: str


PrintPhoto = QImage | PhotoProblem


def print_photo(
    store: MediaStore, media: MediaItem, box_px: tuple[int, int], budget: DecodeBudget
) -> PrintPhoto:
    """The photo fitted into `box_px` (width, height in pixels), EXIF orientation applied and
    never enlarged; or the problem. Thread-safe."""
    long_edge = max(box_px)
    request = ThumbnailRequest(media.id, store, media.storage_key, media.sha256, long_edge)
    try:
        data = read_original(request.source_file())
        reservation = budget.reserve(estimated_decode_bytes(data, long_edge))
        try:
            image = decode_bytes(data, long_edge)
        finally:
            budget.release(reservation)
    except ThumbnailError as exc:
        return PhotoProblem(LABELS[exc.kind], exc.reason)
    except Withdrawn:  # the report was cancelled: nobody will draw this one
        return PhotoProblem(LABELS[ErrorKind.INTERNAL], "Cancelled")
    except Exception as exc:  # a bug: the report goes on, the log has the traceback
        log.exception("report photo of media %s (%s) failed", media.id, media.storage_key)
        return PhotoProblem(LABELS[ErrorKind.INTERNAL], f"Unexpected error: {type(exc).__name__}")
    return fit_within(image, box_px)


def fit_within(image: QImage, box_px: tuple[int, int]) -> QImage:
    """`image` scaled down to fit the box (a portrait photo in a landscape cell); never up."""
    width, height = box_px
    if image.width() <= width and image.height() <= height:
        return image
    return image.scaled(
        width,
        height,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )


class PhotoPipeline:
    """Decodes `media` in worker threads, in order, at most LOOKAHEAD ahead of the reader.

    Iterate it once; `close` (also on leaving a `with`) drops what is queued and waits for the
    decodes running, so no thread outlives the report."""

    def __init__(
        self,
        store: MediaStore,
        media: Sequence[MediaItem],
        box_px: tuple[int, int],
        *,
        workers: int = 2,
        lookahead: int = LOOKAHEAD,
    ) -> None:
        self._store = store
        self._media = media
        self._box = box_px
        self._lookahead = max(1, lookahead)
        self._budget = DecodeBudget(DEFAULT_DECODE_MEMORY_BYTES)
        self._pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="report-photo")
        self._queued: deque[Future[PrintPhoto]] = deque()
        self._next = 0
        self._lock = threading.Lock()

    def __enter__(self) -> PhotoPipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[tuple[MediaItem, PrintPhoto]]:
        for media in self._media:
            self._fill()
            future = self._queued.popleft()
            yield media, future.result()

    def _fill(self) -> None:
        with self._lock:
            while self._next < len(self._media) and len(self._queued) < self._lookahead:
                media = self._media[self._next]
                self._next += 1
                self._queued.append(
                    self._pool.submit(print_photo, self._store, media, self._box, self._budget)
                )

    def close(self) -> None:
        with self._lock:
            self._next = len(self._media)
            for future in self._queued:
                future.cancel()
            self._queued.clear()
        self._budget.close()
        self._pool.shutdown(wait=True)
