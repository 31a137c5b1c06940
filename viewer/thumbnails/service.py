"""The thumbnail scheduler: memory cache, then disk cache, then a scaled decode in workers."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage

from viewer.thumbnails.binding import binding_leaks_references
from viewer.thumbnails.budget import (
    DEFAULT_DECODE_MEMORY_BYTES,
    DecodeBudget,
    Reservation,
    Withdrawn,
)
from viewer.thumbnails.cache import ThumbnailCache, ThumbnailKey
from viewer.thumbnails.decode import DEFAULT_MAX_PIXELS, ErrorKind
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
from viewer.thumbnails.tally import Tally
from viewer.thumbnails.workers import (
    DEFAULT_DECODE_TIMEOUT_S,
    WORKER_THREAD_PREFIX,
    Worker,
    WorkerPool,
)
from viewer.thumbnails.write_backlog import DEFAULT_WRITE_BACKLOG_BYTES, Target, WriteBacklog

__all__ = [
    "DEFAULT_DECODE_MEMORY_BYTES",
    "DEFAULT_DECODE_TIMEOUT_S",
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


class ThumbnailService(QObject):
    """Hands out thumbnails as QImage: at once from memory, otherwise later by signal.

    The GUI thread calls everything here and never decodes; workers only read files, decode,
    and use the disk cache. Results cross back through a queued signal, so the slots connected
    to `thumbnail_ready` / `thumbnail_failed` run on the GUI thread (make the QPixmap there).

    Generations: `begin_generation()` when the selected inspection changes drops everything
    queued; results of an earlier generation still in flight are cached but not delivered.

    Results arrive in batches: a worker queues its outcome and wakes the GUI thread only if
    it is not already due to look; the GUI thread then takes every outcome waiting and emits
    one `delivered` for all of them (the grid repaints once per batch, not per thumbnail: each
    signal and Qt call on the GUI thread is a point where it may wait for the GIL).

    Workers are plain Python threads with our own priority queue rather than QThreadPool:
    PySide releases the GIL inside QImageReader.read(), so they decode in parallel; owning the
    queue makes re-prioritising and cancelling queued work a dictionary operation (QThreadPool
    can only tryTake() a runnable it has not started, and has no re-prioritise); and shutdown
    joins named threads that tests can see in threading.enumerate().

    Budgets: decodes in flight share `decode_memory_bytes` of estimated memory. A job still
    running after `decode_timeout_s` (waits for memory not counted) is given up: a watchdog on
    the GUI thread delivers a failure for it and starts a new worker in its place; whatever the
    lost worker produces later is dropped, and shutdown() joins it with the others.
    """

    # Media ids are BIGINT: an `int` signal argument is a 32-bit C++ int and would overflow, so
    # the id travels as a Python object (always an int).
    thumbnail_ready = Signal(object, int, QImage)  # media_id, size_px, image
    thumbnail_failed = Signal(object, int, str, str)  # media_id, size_px, ErrorKind, reason
    # The same answers, once per batch: a tuple of Outcome (current generation only).
    delivered = Signal(object)
    # Once per batch, on the GUI thread: ((source, seconds), ...) of disk loads and decodes.
    work_timed = Signal(object)
    _outcomes_waiting = Signal()

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
        decode_timeout_s: float = DEFAULT_DECODE_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,  # seconds, for the time budget
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        binding_leaks_references()  # logs an error once per process if the binding is unsafe
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
        self._outcomes: deque[Outcome] = deque()
        self._wake_pending = False  # a _take_outcomes call is queued already
        self._jobs = Scheduler()
        self._writes = WriteBacklog(write_backlog_bytes)
        self._stopping = False
        self._clock = clock
        self._decode_timeout_s = decode_timeout_s

        # GUI thread only.
        self._generation = 0
        self._closed = False
        self._tally = Tally(recent_timings)

        self._outcomes_waiting.connect(self._take_outcomes, Qt.ConnectionType.QueuedConnection)
        self._watchdog = QTimer(self)
        # A tenth of the budget between looks: a job is given up at most 10% late.
        self._watchdog.setInterval(max(10, min(1000, round(decode_timeout_s * 100))))
        self._watchdog.timeout.connect(self._abandon_overdue)
        self._pool = WorkerPool(self._work, workers)  # guarded by _lock from here on
        self._watchdog.start()

    # --- GUI thread API -------------------------------------------------------------------

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def workers(self) -> int:
        return self._pool.size

    def request(
        self, request: ThumbnailRequest, *, visible: bool = True, generation: int | None = None
    ) -> QImage | None:
        """The thumbnail now if memory has it; otherwise None and a signal follows.

        `generation` defaults to the current one; a request made for an earlier one (a slow
        query answering after the selection moved on) is dropped and counted as cancelled.
        """
        self._tally.requests += 1
        gen = self._generation if generation is None else generation
        if gen < self._generation or self._closed:
            self._tally.cancelled += 1
            return None
        key = request.key
        image = self.cache.get(key)
        if image is not None:
            self._tally.memory_hits += 1
            return image
        with self._lock:
            job = self._jobs.find(key)
            if job is not None:
                self._tally.coalesced += 1
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
        self._tally.cancelled += dropped
        return dropped

    def cancel_stale(self, keep: Iterable[ThumbnailKey], size_px: int | None = None) -> int:
        """Drop every queued request not in `keep` (only those of `size_px`, if given, so the
        grid's scrolling leaves a queued preview alone); returns how many were dropped."""
        with self._lock:
            dropped = self._jobs.cancel_stale(keep, size_px)
        self._tally.cancelled += dropped
        return dropped

    def begin_generation(self) -> int:
        """A new selection: drop all queued work and return the new generation number."""
        with self._lock:
            dropped = self._jobs.clear()
        self._tally.cancelled += dropped
        self._generation += 1
        return self._generation

    def stats(self) -> ThumbnailStats:
        with self._lock:  # the workers' side, read at one moment
            shared = {
                "queued": self._jobs.queued,
                "in_flight": self._jobs.in_flight,
                "pending_writes": self._writes.pending,
                "workers": self._pool.size,
            }
        return self._tally.snapshot(**shared, cache=self.cache.stats(), budget=self.decode_budget)

    def is_idle(self) -> bool:
        """Nothing queued, nothing being worked on, no disk write pending."""
        with self._lock:
            return not (self._jobs.queued or self._jobs.in_flight or self._writes.busy)

    def shutdown(self, timeout_s: float = DEFAULT_SHUTDOWN_TIMEOUT_S) -> bool:
        """Drop queued work, let the workers finish the disk writes deferred to idle time,
        and join them, waiting at most `timeout_s` in all.

        Safe to call twice. Returns False (and logs) if a worker is still busy, a lost one
        included; such a thread is a daemon, and an interrupted write leaves only a temporary
        file behind.
        """
        if not self._closed:
            self._closed = True
            self._watchdog.stop()
            with self._lock:
                self._stopping = True
                self._tally.cancelled += self._jobs.clear()
                self._work_available.notify_all()
            self.decode_budget.close()  # a worker waiting for memory gives its job up
        alive = self._pool.join(timeout_s)  # no lock: a worker needs it to finish
        if alive:
            log.warning("thumbnail workers still busy after %.1f s: %s", timeout_s, alive)
        return not alive

    # --- worker threads -------------------------------------------------------------------

    def _work(self, worker: Worker) -> None:
        while True:
            job: Job | None = None
            write: DiskWrite | None = None
            with self._work_available:
                while True:
                    job = None if self._stopping else self._jobs.take()
                    if job is not None:
                        worker.begin(job, self._clock())
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
            produced = self._maker.produce(job.request, lambda n: self._reserve(worker, n))
            with self._lock:
                if worker.lost:  # given up on: a new worker has taken this one's place
                    return
                worker.end()
            if produced is None:  # stopping
                continue
            outcome, write = produced
            with self._lock:
                self._outcomes.append(outcome)
                wake, self._wake_pending = not self._wake_pending, True
            if wake:
                try:
                    self._outcomes_waiting.emit()
                except RuntimeError:  # deleted without shutdown(): nobody listens
                    return
            if write is not None and not self._defer(write):
                with self._lock:
                    self._writes.start(write)
                self._store(write)

    def _reserve(self, worker: Worker, nbytes: int) -> Reservation:
        """Decode memory for `worker`, its clock stopped while it waits; the watchdog writes
        the reservation off if it gives the worker up."""
        with self._lock:
            worker.pause(self._clock())
        try:
            reservation = self.decode_budget.reserve(nbytes)
        finally:
            with self._lock:
                worker.resume(self._clock())
        with self._lock:
            if not worker.lost:
                worker.reservation = reservation
                return reservation
        self.decode_budget.release(reservation)
        raise Withdrawn

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

    def _abandon_overdue(self) -> None:
        """The watchdog: give up every job over its time budget, and replace its worker."""
        now = self._clock()
        abandoned: list[tuple[Job, float]] = []
        with self._lock:
            if self._stopping:
                return
            for worker in self._pool.abandon_overdue(now, self._decode_timeout_s):
                assert worker.job is not None
                abandoned.append((worker.job, worker.elapsed(now)))
                self._jobs.finish(worker.job.request.key)
                # Written off: memory a stuck decode holds forever must not stall the rest.
                if worker.reservation is not None:
                    self.decode_budget.release(worker.reservation)
        given_up: list[tuple[Job | None, Outcome]] = []
        for job, elapsed in abandoned:
            self._tally.workers_lost += 1
            log.warning("thumbnail of %s given up after %.1f s", job.request.storage_key, elapsed)
            reason = f"Took longer than {self._decode_timeout_s:g} s"
            outcome = Outcome(job.request.key, None, None, elapsed, ErrorKind.TOO_LARGE, reason)
            given_up.append((job, outcome))
        self._deliver(given_up)

    def _take_outcomes(self) -> None:
        """Every outcome the workers queued since the last look, in one batch."""
        with self._lock:
            outcomes, self._outcomes = self._outcomes, deque()
            self._wake_pending = False
            batch = [(self._jobs.finish(outcome.key), outcome) for outcome in outcomes]
        self._deliver(batch)

    def _deliver(self, batch: list[tuple[Job | None, Outcome]]) -> None:
        """Count and cache outcomes; tell the view those of the current generation."""
        if self._closed or not batch:
            return
        current: list[Outcome] = []
        timed: list[tuple[str, float]] = []
        for job, outcome in batch:
            is_current = job is not None and job.generation == self._generation
            self._tally.outcome(outcome, current=is_current)
            if outcome.image is not None:
                self.cache.put(outcome.key, outcome.image)
                assert outcome.source is not None
                timed.append((outcome.source.value, outcome.seconds))
            if is_current:
                current.append(outcome)
        if timed:
            self.work_timed.emit(tuple(timed))
        if current:
            self.delivered.emit(tuple(current))
        for outcome in current:  # one by one, for whoever listens per thumbnail
            media_id, size_px = outcome.key
            if outcome.image is not None:
                self.thumbnail_ready.emit(media_id, size_px, outcome.image)
            else:
                assert outcome.kind is not None
                self.thumbnail_failed.emit(media_id, size_px, outcome.kind.value, outcome.reason)
