"""The worker threads: a pool of fixed size, each worker's clock, and the ones given up on."""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable

from db import threads as db_threads
from viewer.thumbnails.budget import Reservation
from viewer.thumbnails.scheduler import Job

WORKER_THREAD_PREFIX = "thumbnail-worker"
# A decode still running after this is abandoned (a placeholder says so) and its worker replaced.
DEFAULT_DECODE_TIMEOUT_S = 10.0
# Workers run this much nicer than the GUI thread (Linux: per thread), so on a busy machine the
# scheduler picks the GUI thread first and a paint never waits behind a decode for a CPU.
WORKER_NICENESS = 10

log = logging.getLogger(__name__)


def lower_thread_priority(niceness: int = WORKER_NICENESS) -> bool:
    """A thumbnail worker's priority: `niceness` nicer than the GUI thread (Linux)."""
    return db_threads.lower_thread_priority(niceness)


class Worker:
    """One worker thread and the job it is on. Fields are guarded by the service's lock.

    The clock runs while the worker is on a job, except while it waits for decode memory (the
    time budget is for the work, not for the queue in front of the memory budget).
    """

    __slots__ = ("_spent", "_started", "job", "lost", "reservation", "thread")

    def __init__(self, name: str, target: Callable[[Worker], None]) -> None:
        # A forgotten shutdown() must not hang interpreter exit; shutdown() still joins.
        self.thread = threading.Thread(target=self._run, args=(target,), name=name, daemon=True)
        self.job: Job | None = None
        self.reservation: Reservation | None = None
        self.lost = False  # abandoned: whatever it produces now is dropped
        self._started: float | None = None
        self._spent = 0.0

    def _run(self, target: Callable[[Worker], None]) -> None:
        lower_thread_priority()
        target(self)

    def begin(self, job: Job, now: float) -> None:
        self.job, self._started, self._spent = job, now, 0.0

    def pause(self, now: float) -> None:
        if self._started is not None:
            self._spent += now - self._started
            self._started = None

    def resume(self, now: float) -> None:
        if self._started is None and self.job is not None:
            self._started = now

    def end(self) -> None:
        self.job, self.reservation, self._started, self._spent = None, None, None, 0.0

    def elapsed(self, now: float) -> float:
        return self._spent + (now - self._started if self._started is not None else 0.0)

    def is_overdue(self, now: float, limit_s: float) -> bool:
        return self._started is not None and not self.lost and self.elapsed(now) > limit_s


class WorkerPool:
    """`size` live workers (default: one per core); a worker given up on is replaced by a new
    thread, and joined (if it ever comes back) with the others at shutdown. Used on the GUI
    thread, under the service's lock while workers run."""

    def __init__(self, target: Callable[[Worker], None], size: int | None = None) -> None:
        size = size if size is not None else (os.cpu_count() or 2)
        if size < 1:
            raise ValueError(f"need at least one worker thread, got {size}")
        self._target = target
        self._numbers = itertools.count()
        self.live: list[Worker] = []
        self.lost: list[Worker] = []
        for _ in range(size):
            self._add()

    @property
    def size(self) -> int:
        return len(self.live)

    def abandon_overdue(self, now: float, limit_s: float) -> list[Worker]:
        """Give up on every worker over `limit_s` on its job (each stays blocked where it is)
        and start a replacement for each."""
        overdue = [worker for worker in self.live if worker.is_overdue(now, limit_s)]
        for worker in overdue:
            worker.lost = True
            # Still prefixed: a test's check for threads left behind keeps seeing it.
            worker.thread.name += "-lost"
            self.live.remove(worker)
            self.lost.append(worker)
            self._add()
        return overdue

    def join(self, timeout_s: float) -> list[str]:
        """Join every thread ever started, live or lost; the names of those still running."""
        deadline = time.monotonic() + timeout_s
        threads = [worker.thread for worker in (*self.live, *self.lost)]
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.lost = [worker for worker in self.lost if worker.thread.is_alive()]
        return [thread.name for thread in threads if thread.is_alive()]

    def _add(self) -> Worker:
        worker = Worker(f"{WORKER_THREAD_PREFIX}-{next(self._numbers)}", self._target)
        self.live.append(worker)
        worker.thread.start()
        return worker
