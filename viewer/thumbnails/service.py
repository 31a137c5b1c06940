"""The thumbnail scheduler: memory cache, then disk cache, then a scaled decode in workers."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable
from types import MappingProxyType

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage

from viewer.thumbnails.binding import binding_leaks_references
from viewer.thumbnails.budget import DEFAULT_DECODE_MEMORY_BYTES, DecodeBudget
from viewer.thumbnails.cache import ThumbnailCache, ThumbnailKey
from viewer.thumbnails.decode import DEFAULT_MAX_PIXELS
from viewer.thumbnails.disk_cache import DiskThumbnailCache
from viewer.thumbnails.maker import DEFAULT_DISK_MAX_PX, ThumbnailMaker
from viewer.thumbnails.requests import (
    GRID_SIZE,
    PREVIEW_SIZE,
    DiskWrite,
    Outcome,
    Source,
    ThumbnailRequest,
    ThumbnailStats,
)
from viewer.thumbnails.scheduler import Job, Scheduler
from viewer.thumbnails.write_backlog import DEFAULT_WRITE_BACKLOG_BYTES, Target, WriteBacklog

__all__ = [
    "DEFAULT_DECODE_MEMORY_BYTES",
    "DEFAULT_DISK_MAX_PX",
    "DEFAULT_SHUTDOWN_TIMEOUT_S",
    "DEFAULT_WRITE_BACKLOG_BYTES",
    "GRID_SIZE",
    "PREVIEW_SIZE",
    "WORKER_THREAD_PREFIX",
    "Source",
    "ThumbnailRequest",
    "ThumbnailService",
    "ThumbnailStats",
]

log = logging.getLogger(__name__)

DEFAULT_SHUTDOWN_TIMEOUT_S = 5.0
WORKER_THREAD_PREFIX = "thumbnail-worker"


class ThumbnailService(QObject):
    """Hands out thumbnails as QImage: at once from memory, otherwise later by signal.

    The GUI thread calls everything here and never decodes; workers only read files, decode,
    and use the disk cache. Results cross back through a queued signal, so the slots connected
    to `thumbnail_ready` / `thumbnail_failed` run on the GUI thread (make the QPixmap there).

    Generations: `begin_generation()` when the selected inspection changes drops everything
    queued; results of an earlier generation still in flight are cached but not delivered.

    Workers are plain Python threads with our own priority queue rather than QThreadPool:
    PySide releases the GIL inside QImageReader.read(), so they decode in parallel; owning the
    queue makes re-prioritising and cancelling queued work a dictionary operation (QThreadPool
    can only tryTake() a runnable it has not started, and has no re-prioritise); and shutdown
    joins named threads that tests can see in threading.enumerate().
    """

    # Media ids are BIGINT: an `int` signal argument is a 32-bit C++ int and would overflow, so
    # the id travels as a Python object (always an int).
    thumbnail_ready = Signal(object, int, QImage)  # media_id, size_px, image
    thumbnail_failed = Signal(object, int, str, str)  # media_id, size_px, ErrorKind, reason
    # Emitted on the GUI thread for each disk load or original decode: source, seconds.
    work_timed = Signal(str, float)
    _outcome_ready = Signal(object)

    def __init__(
        self,
        cache: ThumbnailCache | None = None,
        disk_cache: DiskThumbnailCache | None = None,
        *,
        workers: int | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        recent_timings: int = 1000,
        write_backlog_bytes: int = DEFAULT_WRITE_BACKLOG_BYTES,
        disk_max_px: int = DEFAULT_DISK_MAX_PX,
        decode_memory_bytes: int = DEFAULT_DECODE_MEMORY_BYTES,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        binding_leaks_references()  # logs an error once per process if the binding is unsafe
        count = workers if workers is not None else (os.cpu_count() or 2)
        if count < 1:
            raise ValueError(f"need at least one worker thread, got {count}")
        self.cache = cache if cache is not None else ThumbnailCache()
        self.disk_cache = disk_cache
        # Its own lock: a worker waits for memory without holding the service's.
        self.decode_budget = DecodeBudget(decode_memory_bytes)
        self._maker = ThumbnailMaker(
            disk_cache,
            self.decode_budget,
            self._find_pending,
            max_pixels=max_pixels,
            disk_max_px=disk_max_px,
        )

        # Guarded by _lock: shared with the workers.
        self._lock = threading.Lock()
        self._work_available = threading.Condition(self._lock)
        self._jobs = Scheduler()
        self._writes = WriteBacklog(write_backlog_bytes)
        self._stopping = False

        # GUI thread only.
        self._generation = 0
        self._closed = False
        self._requests = 0
        self._memory_hits = 0
        self._disk_hits = 0
        self._decodes = 0
        self._coalesced = 0
        self._cancelled = 0
        self._stale_results = 0
        self._errors: Counter[str] = Counter()
        self._decode_seconds: deque[float] = deque(maxlen=recent_timings)

        self._outcome_ready.connect(self._on_outcome, Qt.ConnectionType.QueuedConnection)
        self._threads = [
            threading.Thread(
                target=self._work,
                name=f"{WORKER_THREAD_PREFIX}-{i}",
                # A forgotten shutdown() must not hang interpreter exit; shutdown() still joins.
                daemon=True,
            )
            for i in range(count)
        ]
        for thread in self._threads:
            thread.start()

    # --- GUI thread API -------------------------------------------------------------------

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def workers(self) -> int:
        return len(self._threads)

    def request(
        self, request: ThumbnailRequest, *, visible: bool = True, generation: int | None = None
    ) -> QImage | None:
        """The thumbnail now if memory has it; otherwise None and a signal follows.

        `generation` defaults to the current one; a request made for an earlier one (a slow
        query answering after the selection moved on) is dropped and counted as cancelled.
        """
        self._requests += 1
        gen = self._generation if generation is None else generation
        if gen < self._generation or self._closed:
            self._cancelled += 1
            return None
        key = request.key
        image = self.cache.get(key)
        if image is not None:
            self._memory_hits += 1
            return image
        with self._lock:
            job = self._jobs.find(key)
            if job is not None:
                self._coalesced += 1
                self._jobs.coalesce(job, visible, gen)
                return None
            self._jobs.add(request, visible, gen)
            self._work_available.notify()
        return None

    def set_visible(self, keys: Iterable[ThumbnailKey]) -> None:
        """Queued requests in `keys` go first, every other queued one after them."""
        with self._lock:
            self._jobs.set_visible(keys)

    def cancel(self, keys: Iterable[ThumbnailKey]) -> int:
        """Drop these if still queued (scrolled far away); returns how many were dropped."""
        with self._lock:
            dropped = self._jobs.cancel(keys)
        self._cancelled += dropped
        return dropped

    def cancel_stale(self, keep: Iterable[ThumbnailKey], size_px: int | None = None) -> int:
        """Drop every queued request not in `keep` (only those of `size_px`, if given, so the
        grid's scrolling leaves a queued preview alone); returns how many were dropped."""
        with self._lock:
            dropped = self._jobs.cancel_stale(keep, size_px)
        self._cancelled += dropped
        return dropped

    def begin_generation(self) -> int:
        """A new selection: drop all queued work and return the new generation number."""
        with self._lock:
            dropped = self._jobs.clear()
        self._cancelled += dropped
        self._generation += 1
        return self._generation

    def stats(self) -> ThumbnailStats:
        with self._lock:
            queued, in_flight = self._jobs.queued, self._jobs.in_flight
            pending_writes = self._writes.pending
        return ThumbnailStats(
            requests=self._requests,
            memory_hits=self._memory_hits,
            disk_hits=self._disk_hits,
            decodes=self._decodes,
            coalesced=self._coalesced,
            cancelled=self._cancelled,
            stale_results=self._stale_results,
            errors=MappingProxyType(dict(self._errors)),
            queued=queued,
            in_flight=in_flight,
            pending_writes=pending_writes,
            workers=len(self._threads),
            decode_seconds=tuple(self._decode_seconds),
            cache=self.cache.stats(),
            decode_bytes_reserved=self.decode_budget.reserved,
            decode_bytes_peak=self.decode_budget.peak,
            decode_memory_waits=self.decode_budget.waits,
        )

    def is_idle(self) -> bool:
        """Nothing queued, nothing being worked on, no disk write pending."""
        with self._lock:
            return not (self._jobs.queued or self._jobs.in_flight or self._writes.busy)

    def shutdown(self, timeout_s: float = DEFAULT_SHUTDOWN_TIMEOUT_S) -> bool:
        """Drop queued work, let the workers finish the disk writes deferred to idle time,
        and join them, waiting at most `timeout_s` in all.

        Safe to call twice. Returns False (and logs) if a worker is still busy; such a thread
        is a daemon, and an interrupted write leaves only a temporary file behind.
        """
        if not self._closed:
            self._closed = True
            with self._lock:
                self._stopping = True
                self._cancelled += self._jobs.clear()
                self._work_available.notify_all()
            self.decode_budget.close()  # a worker waiting for memory gives its job up
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [thread.name for thread in self._threads if thread.is_alive()]
        if alive:
            log.warning("thumbnail workers still busy after %.1f s: %s", timeout_s, alive)
        return not alive

    # --- worker threads -------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            job: Job | None = None
            write: DiskWrite | None = None
            with self._work_available:
                while True:
                    job = None if self._stopping else self._jobs.take()
                    if job is not None:
                        break
                    # Idle (or stopping): persist what was decoded while others were waiting.
                    write = self._writes.start_oldest()
                    if write is not None:
                        break
                    if self._stopping:
                        return
                    self._work_available.wait()
            if write is not None:
                self._store(write)
                continue
            assert job is not None
            produced = self._maker.produce(job.request)
            if produced is None:  # stopping
                continue
            outcome, write = produced
            try:
                self._outcome_ready.emit(outcome)
            except RuntimeError:  # the QObject was deleted without shutdown(): nobody listens
                return
            if write is not None and not self._defer(write):
                with self._lock:
                    self._writes.start(write)
                self._store(write)

    def _defer(self, write: DiskWrite) -> bool:
        """Put a disk write off until idle time if others wait for a decode and the backlog
        has room; past its limit, the worker writes at once."""
        with self._lock:
            return bool(self._jobs.queued) and self._writes.defer(write)

    def _find_pending(self, target: Target) -> DiskWrite | None:
        with self._lock:
            return self._writes.find(target)

    def _store(self, write: DiskWrite) -> None:
        """Write a thumbnail the backlog knows is being written (so lookups find it meanwhile)."""
        assert self.disk_cache is not None
        try:
            self.disk_cache.store(write.original, write.image, write.size_px)
        except Exception:  # a bug: the disk cache is an optimisation, keep the worker alive
            log.exception("storing the thumbnail of %s failed", write.original.path)
        finally:
            with self._lock:
                self._writes.done(write)

    # --- back on the GUI thread -----------------------------------------------------------

    def _on_outcome(self, outcome: object) -> None:
        assert isinstance(outcome, Outcome)
        key = outcome.key
        with self._lock:
            job = self._jobs.finish(key)
        if self._closed:
            return
        if outcome.image is not None:
            self.cache.put(key, outcome.image)
            if outcome.source is Source.DISK:
                self._disk_hits += 1
            else:
                self._decodes += 1
                self._decode_seconds.append(outcome.seconds)
            assert outcome.source is not None
            self.work_timed.emit(outcome.source.value, outcome.seconds)
        else:
            assert outcome.kind is not None
            self._errors[outcome.kind.value] += 1
        if job is None or job.generation != self._generation:
            self._stale_results += 1
            return
        media_id, size_px = key
        if outcome.image is not None:
            self.thumbnail_ready.emit(media_id, size_px, outcome.image)
        else:
            assert outcome.kind is not None
            self.thumbnail_failed.emit(media_id, size_px, outcome.kind.value, outcome.reason)
