"""Advisory file locks that tell whether a file of ours is still in use by a live process."""

# flock(2) locks belong to an open file and vanish with the process that held them, kill -9
# included: a file whose lock can be taken exclusively is one nobody is using. Without flock
# (Windows) nothing can be told, so a shared lock always "succeeds" and an exclusive one never
# does: callers then never delete a file that might be in use.

from __future__ import annotations

import os
import sys
from pathlib import Path

if sys.platform != "win32":
    import fcntl


def try_lock(fd: int, *, shared: bool = False, wait: bool = False) -> bool:
    """Lock the open file `fd` (shared or exclusive); False if another open file holds it."""
    if sys.platform == "win32":
        return shared
    operation = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    if not wait:
        operation |= fcntl.LOCK_NB
    try:
        fcntl.flock(fd, operation)
    except BlockingIOError:
        return False
    return True


def is_linked_at(fd: int, path: Path) -> bool:
    """Whether `path` still names the file open as `fd` (not removed or replaced meanwhile)."""
    try:
        named = os.lstat(path)
    except OSError:
        return False
    opened = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)
