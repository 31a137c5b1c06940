"""The decode memory budget the workers share, and a header-only estimate of a decode's memory."""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path
from typing import BinaryIO

from viewer.thumbnails.decode import ErrorKind, ThumbnailError

# A 62 MP PNG needs about 250 MB while it is decoded: two at a time, whatever the worker count.
DEFAULT_DECODE_MEMORY_BYTES = 512 * 1024 * 1024
MB = 1024 * 1024


class Withdrawn(Exception):
    """A worker gives its job up at the budget: the service is shutting down (the budget is
    closed) or has given up on the job (its time budget ran out)."""


class Reservation:
    """Bytes one decode holds; releasing it twice (written off, then back late) is harmless."""

    __slots__ = ("nbytes", "released")

    def __init__(self, nbytes: int) -> None:
        self.nbytes = nbytes
        self.released = False


class DecodeBudget:
    """Bytes of decode memory shared by all workers: reserve before decoding, release after.

    Thread-safe, with a lock of its own (a worker waits here without holding the service's).
    Waiters are served first come, first served, so a large decode is not starved by a stream
    of small ones. A reservation larger than the whole budget is refused at once: it could
    never be granted.
    """

    def __init__(self, limit_bytes: int = DEFAULT_DECODE_MEMORY_BYTES) -> None:
        if limit_bytes < 1:
            raise ValueError(f"the decode memory budget must be positive, got {limit_bytes}")
        self.limit_bytes = limit_bytes
        self._changed = threading.Condition()
        self._reserved = 0
        self._peak = 0
        self._waits = 0
        self._queue: deque[object] = deque()
        self._closed = False

    @property
    def reserved(self) -> int:
        with self._changed:
            return self._reserved

    @property
    def peak(self) -> int:
        """The most bytes ever reserved at once."""
        with self._changed:
            return self._peak

    @property
    def waits(self) -> int:
        """How many reservations had to wait for others to release memory."""
        with self._changed:
            return self._waits

    def reserve(self, nbytes: int) -> Reservation:
        """Block until `nbytes` fit. Raises ThumbnailError (TOO_LARGE) if they never can, and
        Withdrawn if the budget is closed meanwhile."""
        if nbytes > self.limit_bytes:
            raise ThumbnailError(
                ErrorKind.TOO_LARGE,
                f"Decoding needs about {nbytes / MB:.0f} MB of memory, over the "
                f"{self.limit_bytes / MB:.0f} MB decode budget",
            )
        ticket = object()
        with self._changed:
            self._queue.append(ticket)
            try:
                if not self._grantable(ticket, nbytes):
                    self._waits += 1
                while not self._grantable(ticket, nbytes):
                    self._changed.wait()
                if self._closed:
                    raise Withdrawn
                self._reserved += nbytes
                self._peak = max(self._peak, self._reserved)
            finally:
                self._queue.remove(ticket)
                self._changed.notify_all()  # the next in line may fit now
        return Reservation(nbytes)

    def release(self, reservation: Reservation) -> None:
        with self._changed:
            if reservation.released:
                return
            reservation.released = True
            self._reserved -= reservation.nbytes
            self._changed.notify_all()

    def close(self) -> None:
        """Wake every waiter with Withdrawn; later reservations fail the same way."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _grantable(self, ticket: object, nbytes: int) -> bool:
        if self._closed:
            return True  # to raise Withdrawn
        return self._queue[0] is ticket and self._reserved + nbytes <= self.limit_bytes


# Bytes per pixel while Qt decodes a whole image and scales it: the decoded image plus the 32-bit
# copy a smooth scale works on (measured: an 8-bit palette or grey PNG of 62 MP peaks at about
# 400 MB, an RGB one at about 255 MB).
_BYTES_PER_PIXEL_32BIT = 4
_BYTES_PER_PIXEL_OTHER = 7
_BYTES_PER_PIXEL_16BIT = 16
_HEADER_BYTES = 64
_JPEG_MAX_SEGMENTS = 4096


def estimate_decode_bytes(path: Path, size_px: int, max_pixels: int) -> int | None:
    """Memory a scaled decode of `path` needs, from its header alone; None if the header says
    nothing we can read (the caller assumes the worst).

    A stand-in until decode.py offers a header-only estimate of its own. 0 for files the
    decoder refuses before allocating (over `max_pixels`) or cannot open (it reports why).
    """
    try:
        with path.open("rb") as f:
            file_bytes = _file_size(f)
            head = f.read(_HEADER_BYTES)
            pixels_and_bpp = _png(head) or _gif(head) or _bmp(head) or _webp(head)
            if pixels_and_bpp is None and head.startswith(b"\xff\xd8"):
                pixels_and_bpp = _jpeg(f, size_px)
    except OSError:
        return 0
    if pixels_and_bpp is None:
        return None
    (width, height), bytes_per_pixel = pixels_and_bpp
    if width * height > max_pixels:
        return 0
    # The file is read whole, then copied into a QByteArray; the thumbnail itself is small.
    return 2 * file_bytes + int(width * height * bytes_per_pixel) + size_px * size_px * 4


Dimensions = tuple[tuple[int, int], float]


def _file_size(f: BinaryIO) -> int:
    size = f.seek(0, 2)
    f.seek(0)
    return size


def _png(head: bytes) -> Dimensions | None:
    if not head.startswith(b"\x89PNG\r\n\x1a\n") or head[12:16] != b"IHDR" or len(head) < 26:
        return None
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    depth, colour = head[24], head[25]
    if depth == 16:
        return (width, height), _BYTES_PER_PIXEL_16BIT
    rgb = colour in (2, 6)
    return (width, height), _BYTES_PER_PIXEL_32BIT if rgb else _BYTES_PER_PIXEL_OTHER


def _gif(head: bytes) -> Dimensions | None:
    if not head.startswith((b"GIF87a", b"GIF89a")) or len(head) < 10:
        return None
    width, height = int.from_bytes(head[6:8], "little"), int.from_bytes(head[8:10], "little")
    return (width, height), _BYTES_PER_PIXEL_OTHER


def _bmp(head: bytes) -> Dimensions | None:
    if not head.startswith(b"BM") or len(head) < 26:
        return None
    width = abs(int.from_bytes(head[18:22], "little", signed=True))
    height = abs(int.from_bytes(head[22:26], "little", signed=True))
    return (width, height), _BYTES_PER_PIXEL_OTHER


def _webp(head: bytes) -> Dimensions | None:
    if not (head.startswith(b"RIFF") and head[8:12] == b"WEBP") or len(head) < 30:
        return None
    chunk = head[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
    elif chunk == b"VP8L":
        bits = int.from_bytes(head[21:25], "little")
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif chunk == b"VP8 ":
        width = int.from_bytes(head[26:28], "little") & 0x3FFF
        height = int.from_bytes(head[28:30], "little") & 0x3FFF
    else:
        return None
    return (width, height), _BYTES_PER_PIXEL_32BIT


# Start-of-frame markers: C0..CF except DHT (C4), JPG (C8) and DAC (CC); C2, C6, CA, CE are
# progressive, which keeps every DCT coefficient of the full-size image in memory.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_PROGRESSIVE = frozenset({0xC2, 0xC6, 0xCA, 0xCE})


def _jpeg(f: BinaryIO, size_px: int) -> Dimensions | None:
    """Walk the segments (seeking past their bodies) to the frame header."""
    f.seek(2)
    for _ in range(_JPEG_MAX_SEGMENTS):
        marker = f.read(4)
        if len(marker) < 4 or marker[0] != 0xFF:
            return None
        length = int.from_bytes(marker[2:4], "big")
        if marker[1] not in _JPEG_SOF:
            if length < 2:
                return None
            f.seek(length - 2, 1)
            continue
        frame = f.read(length - 2)
        if len(frame) < 6:
            return None
        height, width = int.from_bytes(frame[1:3], "big"), int.from_bytes(frame[3:5], "big")
        if width == 0 or height == 0:
            return None
        # libjpeg decodes at 1/1, 1/2, 1/4 or 1/8 of the size: Qt picks the smallest scale at
        # or above the thumbnail (as below, from qjpeghandler), then scales the rest of the way.
        scale = min(1.0, size_px / max(width, height))
        scaled_w, scaled_h = max(1, round(width * scale)), max(1, round(height * scale))
        ratio = min(width // scaled_w, height // scaled_h)
        denominator = 8 if ratio >= 8 else 4 if ratio >= 4 else 2 if ratio >= 2 else 1
        per_pixel = float(_BYTES_PER_PIXEL_32BIT) / (denominator * denominator)
        if marker[1] in _JPEG_PROGRESSIVE:
            per_pixel += 2 * _coefficient_share(frame)
        return (width, height), per_pixel
    return None


def _coefficient_share(frame: bytes) -> float:
    """DCT coefficients per pixel: one per pixel for each component at full resolution."""
    count = frame[5]
    factors = [frame[7 + 3 * i] for i in range(count) if 8 + 3 * i <= len(frame)]
    if not factors:
        return 3.0
    sampling = [(factor >> 4, factor & 0x0F) for factor in factors]
    h_max = max(h for h, _ in sampling) or 1
    v_max = max(v for _, v in sampling) or 1
    return sum(h * v for h, v in sampling) / (h_max * v_max)
