"""Copying the photos a database names from one store to another (`media push`), and what a
store holds (`media status`).

A push is resumable: an object already at the destination with the size the database records
is skipped (an S3 PUT is atomic, so a present object is a whole one). Each photo is read once,
checked against the SHA-256 the database records, and only then written; one that does not
match, or cannot be read, is reported and left out, never copied damaged.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from db.progress import ProgressCallback, no_progress
from db.storage import MediaStore, ObjectInfo, StorageError

if TYPE_CHECKING:
    from sqlalchemy import Engine


DEFAULT_PUSH_WORKERS = 8
# The most a photo may be (the decoder refuses more); a bigger one is reported, not copied.
MAX_PHOTO_BYTES = 256 * 1024 * 1024
TIER_PREFIX = "thumbnails/"


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    storage_key: str
    sha256: str
    byte_size: int


@dataclass
class PushSummary:
    photos: int = 0
    copied: int = 0
    skipped: int = 0  # already there
    bytes_copied: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # key, reason
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class StoreStatus:
    objects: int
    bytes: int
    tier: dict[int, int]  # thumbnail size -> thumbnails in the tier
    photo_files: int | None  # photo files the database names (None: not asked)
    photo_files_present: int | None  # of those, how many the store holds
    distinct_photos: int | None  # distinct SHA-256s: what a complete tier holds per size


def database_photos(engine: Engine) -> list[StoredPhoto]:
    """Every photo file live media rows name, once per storage key."""
    from sqlalchemy import func, select

    from db.models import Media

    statement = (
        select(Media.storage_key, func.min(Media.sha256), func.max(Media.byte_size))
        .where(Media.deleted_at.is_(None))
        .group_by(Media.storage_key)
        .order_by(Media.storage_key)
    )
    with engine.connect() as conn:
        return [StoredPhoto(str(k), str(s), int(b)) for k, s, b in conn.execute(statement)]


def push(
    photos: list[StoredPhoto],
    source: MediaStore,
    destination: MediaStore,
    *,
    workers: int = DEFAULT_PUSH_WORKERS,
    progress: ProgressCallback = no_progress,
    cancel: threading.Event | None = None,
) -> PushSummary:
    started = time.monotonic()
    summary = PushSummary(photos=len(photos))
    present = {info.key: info.size for info in destination.list_objects()}
    todo = [p for p in photos if present.get(p.storage_key) != p.byte_size]
    summary.skipped = len(photos) - len(todo)
    done = summary.skipped
    progress("Copying photos", done, len(photos))
    lock = threading.Lock()

    def copy(photo: StoredPhoto) -> None:
        nonlocal done
        outcome = _copy_one(photo, source, destination)
        with lock:
            if outcome is None:
                summary.copied += 1
                summary.bytes_copied += photo.byte_size
            else:
                summary.failed.append((photo.storage_key, outcome))
            done += 1
            progress("Copying photos", done, len(photos))

    _run_bounded(copy, todo, workers, cancel)
    summary.seconds = time.monotonic() - started
    return summary


def _copy_one(photo: StoredPhoto, source: MediaStore, destination: MediaStore) -> str | None:
    """None when copied; otherwise why not."""
    try:
        data = source.read(photo.storage_key, max_bytes=MAX_PHOTO_BYTES)
    except StorageError as exc:
        return f"not read from {source.display}: {exc.reason}"
    if hashlib.sha256(data).hexdigest() != photo.sha256:
        return "does not match its SHA-256 in the database (damaged or replaced): not copied"
    try:
        destination.write(photo.storage_key, data)
    except StorageError as exc:
        return f"not written: {exc.reason}"
    return None


def _run_bounded(
    job: Callable[[StoredPhoto], None],
    items: Iterable[StoredPhoto],
    workers: int,
    cancel: threading.Event | None,
) -> None:
    """`job` on every item, at most `workers` at once, submitting only as they finish (a
    cancel or Ctrl+C stops after the ones running)."""
    pending: set[Future[None]] = set()
    with ThreadPoolExecutor(workers, thread_name_prefix="media-push") as pool:
        try:
            for item in items:
                if cancel is not None and cancel.is_set():
                    break
                if len(pending) >= 2 * workers:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        future.result()
                pending.add(pool.submit(job, item))
            for future in pending:
                future.result()
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def store_status(store: MediaStore, photos: list[StoredPhoto] | None) -> StoreStatus:
    """Count what `store` holds: photos and bytes, and the thumbnail tier by size."""
    objects = size = 0
    tier: Counter[int] = Counter()
    keys: set[str] = set()
    for info in store.list_objects():
        if info.key.startswith(TIER_PREFIX):
            px = _tier_size(info)
            if px is not None:
                tier[px] += 1
            continue
        objects += 1
        size += info.size
        keys.add(info.key)
    if photos is None:
        return StoreStatus(objects, size, dict(sorted(tier.items())), None, None, None)
    present = sum(1 for p in photos if p.storage_key in keys)
    distinct = len({p.sha256 for p in photos})
    return StoreStatus(objects, size, dict(sorted(tier.items())), len(photos), present, distinct)


def _tier_size(info: ObjectInfo) -> int | None:
    parts = info.key.split("/")
    if len(parts) == 3 and parts[1].isdigit():
        return int(parts[1])
    return None
