"""The demo's files in a MediaStore: a photo pool encoded once and reused, and the bad files."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from db.demo.photos import PhotoJob, encode_photo
from db.demo.spec import (
    BAD_MEDIA_KEYS,
    DEMO_PREFIX,
    GENERATOR_VERSION,
    NOT_AN_IMAGE_TEXT,
    TRUNCATED_FRACTION,
    DemoSpec,
)
from db.demo.vocabulary import SECTIONS
from db.progress import ProgressCallback
from db.storage import MediaStore, StorageError

# (stored width, stored height, EXIF orientation or None); cycled through by pool index.
FULL_SIZE_FORMATS: tuple[tuple[int, int, int | None], ...] = (
    (4032, 3024, None),
    (4032, 3024, 6),
    (4032, 3024, 1),
    (3024, 4032, None),
    (4032, 3024, 3),
    (4032, 3024, 8),
)
SMALL_FORMATS: tuple[tuple[int, int, int | None], ...] = (
    (1600, 1200, None),
    (1200, 1600, None),
    (1600, 1200, 6),
    (2048, 1536, 1),
    (1280, 960, None),
    (1920, 1080, None),
    (1600, 1200, 3),
    (1536, 2048, None),
    (1600, 1200, 8),
)
LABEL = "Generating photos"


@dataclass(frozen=True)
class PoolPhoto:
    """One distinct JPEG file of the demo, shared by many media rows."""

    index: int
    section: str
    storage_key: str
    sha256: str
    byte_size: int
    width: int
    height: int
    orientation: int | None


def ensure_photo_pool(
    store: MediaStore, spec: DemoSpec, photos_seed: int, report: ProgressCallback
) -> list[PoolPhoto]:
    """The pool of photo files: reused when the manifest's files are intact, else encoded."""
    jobs = photo_jobs(spec, photos_seed)
    manifest = _manifest_key(spec)
    known = _load_manifest(store, manifest)
    done: dict[int, PoolPhoto] = {}
    todo: list[PhotoJob] = []
    for job in jobs:
        photo = known.get(job.index)
        if photo is not None and _file_matches(store, photo):
            done[job.index] = photo
        else:
            todo.append(job)
    report(LABEL, len(done), len(jobs))
    if todo:
        _encode_missing(store, todo, done, lambda: report(LABEL, len(done), len(jobs)))
    pool = [done[job.index] for job in jobs]
    if todo:
        payload = {"version": GENERATOR_VERSION, "photos": [asdict(p) for p in pool]}
        store.write(manifest, json.dumps(payload, indent=1).encode("utf-8"))
    return pool


def photo_jobs(spec: DemoSpec, photos_seed: int) -> list[PhotoJob]:
    jobs = []
    total = spec.full_size_photos + spec.small_photos
    for index in range(total):
        full = index < spec.full_size_photos
        formats = FULL_SIZE_FORMATS if full else SMALL_FORMATS
        n = index if full else index - spec.full_size_photos
        width, height, orientation = formats[n % len(formats)]
        jobs.append(
            PhotoJob(
                index=index,
                seed=photos_seed + index,
                section=SECTIONS[index % len(SECTIONS)],
                width=width,
                height=height,
                orientation=orientation,
                full_size=full,
            )
        )
    return jobs


def write_bad_files(store: MediaStore, pool: Sequence[PoolPhoto]) -> int:
    """The damaged files behind the bad media rows; returns their total size in bytes."""
    _remove(store, BAD_MEDIA_KEYS["missing"])
    whole = store.read(bad_source(pool).storage_key)
    contents = {
        "truncated": whole[: int(len(whole) * TRUNCATED_FRACTION)],
        "empty": b"",
        "not_image": NOT_AN_IMAGE_TEXT.encode("utf-8"),
    }
    for kind, data in contents.items():
        key = BAD_MEDIA_KEYS[kind]
        if not _holds(store, key, data):
            store.write(key, data)
    return sum(len(d) for d in contents.values())


def bad_source(pool: Sequence[PoolPhoto]) -> PoolPhoto:
    """The photo the bad files were supposed to be (their rows claim its size and checksum)."""
    # A small photo: the truncated copy stays small, and its claimed metadata is plausible.
    return min(pool, key=lambda p: (p.byte_size > 2_000_000, p.index))


def _encode_missing(
    store: MediaStore,
    todo: Sequence[PhotoJob],
    done: dict[int, PoolPhoto],
    on_photo: Callable[[], None],
) -> None:
    # Pillow releases the GIL in its heavy loops (resize, channel operations, JPEG encoding):
    # threads use both cores without the start-up cost and fork hazards of processes in a
    # GUI app. Each photo has its own seed, so the bytes do not depend on the scheduling.
    # Two at most: a 12 MP photo needs ~150 MB of intermediate images while it is drawn.
    workers = max(1, min(len(todo), os.cpu_count() or 1, 2))
    ex = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="demo-photo")
    try:
        futures = [ex.submit(_encode_and_store, store, job) for job in todo]
        for future in futures:
            photo = future.result()
            done[photo.index] = photo
            on_photo()
    finally:
        # A cancel (an exception from the progress callback) should not wait for queued photos.
        ex.shutdown(wait=True, cancel_futures=True)


def _encode_and_store(store: MediaStore, job: PhotoJob) -> PoolPhoto:
    data = encode_photo(job)
    sha = hashlib.sha256(data).hexdigest()
    photo = PoolPhoto(
        index=job.index,
        section=job.section,
        storage_key=f"{DEMO_PREFIX}/{sha[:2]}/{sha}.jpg",
        sha256=sha,
        byte_size=len(data),
        width=job.width,
        height=job.height,
        orientation=job.orientation,
    )
    if not _file_matches(store, photo):  # else: same bytes already there (lost manifest)
        store.write(photo.storage_key, data)
    return photo


def _manifest_key(spec: DemoSpec) -> str:
    name = (
        f".pool-v{GENERATOR_VERSION}-{spec.seed}-{spec.full_size_photos}-{spec.small_photos}.json"
    )
    return f"{DEMO_PREFIX}/{name}"


def _load_manifest(store: MediaStore, key: str) -> dict[int, PoolPhoto]:
    try:
        raw = json.loads(store.read(key))
        return {int(e["index"]): PoolPhoto(**e) for e in raw["photos"]}
    except (StorageError, ValueError, KeyError, TypeError):
        return {}


def _file_matches(store: MediaStore, photo: PoolPhoto) -> bool:
    try:
        if store.stat(photo.storage_key).size != photo.byte_size:
            return False
        data = store.read(photo.storage_key, max_bytes=photo.byte_size)
    except StorageError:
        return False
    return hashlib.sha256(data).hexdigest() == photo.sha256


def _holds(store: MediaStore, key: str, data: bytes) -> bool:
    """Whether `key` already has exactly these bytes (then it is left alone)."""
    try:
        return store.stat(key).size == len(data) and store.read(key) == data
    except StorageError:
        return False


def _remove(store: MediaStore, key: str) -> None:
    """Make sure nothing is stored under `key` (the row whose file is missing on purpose)."""
    store.delete(key)
