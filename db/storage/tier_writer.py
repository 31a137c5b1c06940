"""TierWriter: publishes thumbnails to the team tier from threads of its own, never the caller's.

A thumbnail worker hands over the bytes and goes on; if the queue is full the thumbnail is
dropped (the next client makes it). close() gives what is queued a bounded time to go out.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")

DEFAULT_THREADS = 4
DEFAULT_QUEUE = 512
DRAIN_TIMEOUT_S = 5.0


class TierWriter(Generic[Item]):
    def __init__(
        self,
        publish: Callable[[Item], None],
        *,
        threads: int = DEFAULT_THREADS,
        queued: int = DEFAULT_QUEUE,
    ) -> None:
        self._publish = publish
        self._queue: queue.Queue[Item | None] = queue.Queue(queued)
        self._threads: list[threading.Thread] = []
        self._size = threads
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, item: Item) -> bool:
        """Queue `item`; False if the writer is closed or full (the item is dropped)."""
        with self._lock:
            if self._closed:
                return False
            if not self._threads:
                for number in range(self._size):
                    thread = threading.Thread(
                        target=self._run, name=f"tier-writer-{number}", daemon=True
                    )
                    thread.start()
                    self._threads.append(thread)
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            return False
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
            try:
                self._queue.put(None, timeout=max(0.0, deadline - time.monotonic()))
            except queue.Full:
                break
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        dropped = 0
        while True:  # past the deadline: what is left is dropped, and the threads told to stop
            try:
                if self._queue.get_nowait() is not None:
                    dropped += 1
                self._queue.task_done()
            except queue.Empty:
                break
        if dropped:
            log.info("team thumbnail tier: %d thumbnails not written at shutdown", dropped)
        for _ in threads:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                break

    def drain(self, timeout_s: float) -> bool:
        """Wait until everything queued so far is published (or dropped); False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks > 0:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._publish(item)
            except Exception:  # a bug: keep the writer alive, the tier is an optimisation
                log.exception("publishing a tier thumbnail failed")
            finally:
                self._queue.task_done()
