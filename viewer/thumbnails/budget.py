"""The decode memory budget the workers share (decode.estimated_decode_bytes says what to ask)."""

from __future__ import annotations

import threading
from collections import deque

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
