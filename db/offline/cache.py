"""The bundle cache (<cache>/bundles/<digest>/): which folders are in use, and pruning the rest."""

# One folder per bundle holds what was extracted from it. While a bundle is open, its folder's
# `.lock` is held shared (locks.py), so a prune -- in this process or in another app instance --
# can tell the folder is in use: it evicts only folders whose lock it can take exclusively. The
# lock file's mtime is the folder's last use (set when the bundle is opened and closed), which
# is the LRU order. An evicted folder is first renamed away under that exclusive lock, so a
# bundle being opened at that moment either keeps its folder or starts a fresh one.

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from db.offline.locks import is_linked_at, try_lock

log = logging.getLogger(__name__)

LOCK_NAME = ".lock"
_FOLDER = re.compile(r"[0-9a-f]{32}")  # BundleArchive names them by the manifest's digest
_EVICTING = ".evicting-"
_ATTEMPTS = 20


class CacheFolder:
    """A bundle's cache folder held in use: created if need be, its lock held shared until
    `release()`. Blocking (it may wait for a prune that is evicting this very folder)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._fd: int | None = _hold_shared(folder)
        _touch(self._fd)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                _touch(fd)
            finally:
                os.close(fd)


def _hold_shared(folder: Path) -> int:
    lock = folder / LOCK_NAME
    for _ in range(_ATTEMPTS):
        folder.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:  # evicted between the mkdir and the open: again
            continue
        try:
            try_lock(fd, shared=True, wait=True)
            if is_linked_at(fd, lock):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the lock of a folder that was evicted while we waited for it
    raise OSError(f"{folder} was evicted {_ATTEMPTS} times while it was being opened")


def _touch(fd: int) -> None:
    if os.utime not in os.supports_fd:
        return
    try:
        os.utime(fd)
    except OSError as exc:  # the LRU order is a hint, not worth failing an open for
        log.debug("cannot set the last use of a bundle cache folder: %s", exc)


@dataclass(frozen=True, slots=True)
class PruneResult:
    evicted: tuple[str, ...]  # folder names, least recently used first
    bytes_before: int
    bytes_after: int


def prune_bundle_cache(bundles: Path, max_bytes: int, keep: Path) -> PruneResult:
    """Evict extracted bundles from `bundles`, least recently used first, until it holds at most
    `max_bytes`; never `keep` (the bundle being opened) nor a folder any process holds in use.

    Blocking (walks and deletes folders): open_bundle calls it, off the GUI thread.
    """
    if not bundles.is_dir():
        return PruneResult((), 0, 0)
    _remove_abandoned_evictions(bundles)
    folders: list[tuple[int, Path, int]] = []
    for child in os.scandir(bundles):
        if _FOLDER.fullmatch(child.name) and child.is_dir(follow_symlinks=False):
            folder = Path(child.path)
            folders.append((_last_use(folder), folder, _size(folder)))
    before = total = sum(size for _, _, size in folders)
    evicted: list[str] = []
    for _, folder, size in sorted(folders):
        if total <= max_bytes:
            break
        if folder != keep and _evict(folder, bundles):
            total -= size
            evicted.append(folder.name)
    if evicted:
        log.info("bundle cache: evicted %d folder(s), %d -> %d bytes", len(evicted), before, total)
    return PruneResult(tuple(evicted), before, total)


def _evict(folder: Path, bundles: Path) -> bool:
    lock = folder / LOCK_NAME
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError:
        return False
    trash = bundles / f"{_EVICTING}{secrets.token_hex(6)}"
    try:
        if not (try_lock(fd) and is_linked_at(fd, lock)):
            return False  # open in some process, or evicted by another prune meanwhile
        os.rename(folder, trash)
    except OSError as exc:
        log.warning("cannot evict %s from the bundle cache: %s", folder, exc)
        return False
    finally:
        os.close(fd)
    shutil.rmtree(trash, ignore_errors=True)
    return True


def _remove_abandoned_evictions(bundles: Path) -> None:
    # Renamed away by a prune that was killed before it finished deleting.
    for child in bundles.glob(f"{_EVICTING}*"):
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)


def _last_use(folder: Path) -> int:
    try:
        return (folder / LOCK_NAME).stat().st_mtime_ns
    except OSError:
        try:
            return folder.stat().st_mtime_ns
        except OSError:
            return 0


def _size(folder: Path) -> int:
    total = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                total += _size(Path(entry.path))
            else:
                total += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
    return total
