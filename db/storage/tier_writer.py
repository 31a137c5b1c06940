"""TierWriter: publishes thumbnails to the team tier from threads of its own, never the caller's.

A thumbnail worker hands over the bytes and goes on. The queue is bounded in bytes, not items:
a first client decoding a whole inspection queues faster than the writes go out (they wait
for the same fetch slots as the downloads), and a thumbnail dropped here is a photo the next
client must download in full (650 KB instead of 10 KB). Only past the byte cap is one dropped
(the next client makes it). close() gives what is queued a bounded time to go out.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from db.threads import lower_thread_priority

log = logging.getLogger(__name__)

Item = TypeVar("Item")

DEFAULT_THREADS = 4
# About 6,000 grid thumbnails (10 KB each) or 1,500 of the largest tier size (40 KB).
DEFAULT_QUEUE_BYTES = 64 * 1024 * 1024
# As the thumbnail workers: background work, never ahead of the GUI thread for a CPU.
DEFAULT_NICENESS = 10
DRAIN_TIMEOUT_S = 5.0


class TierWriter(Generic[Item]):
    def __init__(
        self,
        publish: Callable[[Item], None],
        weigh: Callable[[Item], int],
        *,
        threads: int = DEFAULT_THREADS,
        max_bytes: int = DEFAULT_QUEUE_BYTES,
        niceness: int = DEFAULT_NICENESS,
    ) -> None:
        self._publish = publish
        self._weigh = weigh
        self._niceness = niceness
        self.max_bytes = max_bytes
        self._queued_bytes = 0
        self.dropped = 0
        self._queue: queue.Queue[Item | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._size = threads
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, item: Item) -> bool:
        """Queue `item`; False if the writer is closed or holds `max_bytes` (it is dropped)."""
        weight = self._weigh(item)
        with self._lock:
            if self._closed:
                return False
            if self._queued_bytes + weight > self.max_bytes:
                self.dropped += 1
                return False
            self._queued_bytes += weight
            if not self._threads:
                for number in range(self._size):
                    thread = threading.Thread(
                        target=self._run, name=f"tier-writer-{number}", daemon=True
                    )
                    thread.start()
                    self._threads.append(thread)
        self._queue.put_nowait(item)  # unbounded in items: the bytes are bounded above
        return True

    def close(self, timeout_s: float = DRAIN_TIMEOUT_S) -> None:
        """Let the queued items go out for at most `timeout_s`, then stop the threads."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            threads = list(self._threads)
        deadline = time.monotonic() + timeout_s
        for _ in threads:
            self._queue.put_nowait(None)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        dropped = 0
        while True:  # past the deadline: what is left is dropped, and the threads told to stop
            try:
                item = self._queue.get_nowait()
                if item is not None:
                    dropped += 1
                    self._unweigh(item)
                self._queue.task_done()
            except queue.Empty:
                break
        if dropped:
            log.info("team thumbnail tier: %d thumbnails not written at shutdown", dropped)
        for _ in threads:
            self._queue.put_nowait(None)

    def drain(self, timeout_s: float) -> bool:
        """Wait until everything queued so far is published (or dropped); False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks > 0:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def _run(self) -> None:
        lower_thread_priority(self._niceness)
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._publish(item)
            except Exception:  # a bug: keep the writer alive, the tier is an optimisation
                log.exception("publishing a tier thumbnail failed")
            finally:
                if item is not None:
                    self._unweigh(item)
                self._queue.task_done()

    def _unweigh(self, item: Item) -> None:
        with self._lock:
            self._queued_bytes -= self._weigh(item)
