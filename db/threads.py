"""Background threads that must not take a CPU from the GUI thread (or from more urgent work)."""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)


def lower_thread_priority(niceness: int) -> bool:
    """Make the calling thread `niceness` nicer than it is. Linux only (elsewhere the nice
    value belongs to the whole process); False when it could not be done."""
    if sys.platform != "linux" or niceness <= 0:
        return False
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + niceness)
    except OSError as exc:  # a sandbox may forbid it: slower under load, nothing worse
        log.debug("could not lower the priority of thread %s: %s", tid, exc)
        return False
    return True
