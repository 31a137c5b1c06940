"""The thumbnail work queue: jobs by priority (visible first, then oldest), coalesced by key."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable

from viewer.thumbnails.cache import ThumbnailKey
from viewer.thumbnails.requests import ThumbnailRequest

_VISIBLE, _INVISIBLE = 0, 1


class Job:
    """One (media, size) waiting for or under work; every request for it shares this."""

    __slots__ = ("generation", "order", "request", "ticket", "visible")

    def __init__(
        self, request: ThumbnailRequest, visible: bool, generation: int, order: int
    ) -> None:
        self.request = request
        self.visible = visible
        self.generation = generation
        self.order = order
        self.ticket = 0


class Scheduler:
    """Queued and in-flight jobs. Not thread-safe: the service calls it under its lock.

    Re-prioritising or cancelling a queued job is a dictionary operation: heap entries are never
    removed, a new ticket makes older entries of the same job stale, and the heap is compacted
    when stale entries outnumber live ones.
    """

    def __init__(self) -> None:
        self._queued: dict[ThumbnailKey, Job] = {}
        self._in_flight: dict[ThumbnailKey, Job] = {}
        self._heap: list[tuple[int, int, int, ThumbnailKey]] = []
        self._order = itertools.count()

    @property
    def queued(self) -> int:
        return len(self._queued)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def find(self, key: ThumbnailKey) -> Job | None:
        """The job for `key` under work or waiting for it."""
        return self._in_flight.get(key) or self._queued.get(key)

    def add(self, request: ThumbnailRequest, visible: bool, generation: int) -> Job:
        job = Job(request, visible, generation, next(self._order))
        self._queued[request.key] = job
        self._push(job)
        return job

    def coalesce(self, job: Job, visible: bool, generation: int) -> None:
        """Another request for `job`: it belongs to the newest generation asking, and a
        visible request moves it to the front if it is still queued."""
        job.generation = max(job.generation, generation)
        if visible and not job.visible and job.request.key in self._queued:
            job.visible = True
            self._push(job)

    def set_visible(self, keys: Iterable[ThumbnailKey]) -> None:
        visible = set(keys)
        for key, job in self._queued.items():
            now_visible = key in visible
            if job.visible != now_visible:
                job.visible = now_visible
                self._push(job)
        self._compact()

    def cancel(self, keys: Iterable[ThumbnailKey]) -> int:
        dropped = sum(1 for key in set(keys) if self._queued.pop(key, None) is not None)
        self._compact()
        return dropped

    def cancel_stale(self, keep: Iterable[ThumbnailKey], size_px: int | None = None) -> int:
        kept = set(keep)
        stale = [
            key
            for key in self._queued
            if key not in kept and (size_px is None or key[1] == size_px)
        ]
        for key in stale:
            del self._queued[key]
        self._compact()
        return len(stale)

    def clear(self) -> int:
        """Drop every queued job (in-flight ones go on); returns how many were dropped."""
        dropped = len(self._queued)
        self._queued.clear()
        self._heap.clear()
        return dropped

    def take(self) -> Job | None:
        """The most urgent queued job, now in flight; None if nothing is queued."""
        while self._heap:
            _, _, ticket, key = heapq.heappop(self._heap)
            job = self._queued.get(key)
            if job is not None and job.ticket == ticket:
                del self._queued[key]
                self._in_flight[key] = job
                return job
        return None

    def finish(self, key: ThumbnailKey) -> Job | None:
        """The in-flight job for `key`, no longer in flight (None if there was none)."""
        return self._in_flight.pop(key, None)

    def _push(self, job: Job) -> None:
        job.ticket += 1
        priority = _VISIBLE if job.visible else _INVISIBLE
        heapq.heappush(self._heap, (priority, job.order, job.ticket, job.request.key))

    def _compact(self) -> None:
        if len(self._heap) > 2 * len(self._queued) + 64:
            self._heap = [
                entry
                for entry in self._heap
                if (job := self._queued.get(entry[3])) is not None and job.ticket == entry[2]
            ]
            heapq.heapify(self._heap)
