"""The benchmark's data: a scratch database with the demo or a generated shape, dropped after."""

from __future__ import annotations

import contextlib
import io
import os
import random
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from PIL import Image
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL

from db.config import libpq_url, mask_password
from db.demo import LARGE_INSPECTION_REFERENCE, DemoSpec, generate_demo
from db.engine import CONNECT_TIMEOUT_S, make_engine
from db.errors import KnownError
from db.migrate import upgrade
from db.progress import ProgressCallback
from db.storage import MediaStore, StorageError, open_store

GENERATED_PREFIX = "bench"
# Photo files behind a generated dataset's media rows (only written for the thumbnail part):
# full-size camera pictures and smaller ones, as in the demo's pool.
GENERATED_FILES = ((4032, 3024, 4), (1600, 1200, 12))
JPEG_QUALITY = 85


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """The demo (kind="demo"), or `inspections` x `items` x `media_per_item` generated rows."""

    kind: str = "demo"
    inspections: int = 50
    items: int = 200
    media_per_item: int = 5

    def describe(self) -> str:
        if self.kind == "demo":
            return "the demo data (db.demo, default DemoSpec)"
        return (
            f"generated ({self.items} checklist items x {self.media_per_item} photos "
            "per inspection)"
        )


@dataclass(frozen=True, slots=True)
class MeasuredInspection:
    id: int
    reference: str
    items: int
    media: int  # live (not soft-deleted) photos: the rows a load returns


@dataclass(frozen=True, slots=True)
class Dataset:
    spec: DatasetSpec
    url: URL
    database: str
    inspections: int
    checklist_items: int
    media_rows: int
    # The rounds load these in turn (the demo: its large inspection; generated: all alike).
    measured: tuple[MeasuredInspection, ...]
    all_ids: tuple[int, ...]  # what the concurrent loads pick from
    media_dir: Path
    photo_files: tuple[Path, ...]  # distinct image files on disk, for the thumbnail part

    def expected_statements_n_plus_1(self, inspection_id: int) -> int:
        return next(m.items for m in self.measured if m.id == inspection_id) + 1


def scratch_database_name() -> str:
    return f"bench_{os.getpid()}_{secrets.token_hex(3)}"


@contextlib.contextmanager
def scratch_dataset(
    server_url: URL,
    spec: DatasetSpec,
    *,
    with_files: bool,
    progress: ProgressCallback,
) -> Iterator[Dataset]:
    """Create a database next to `server_url`'s, fill it, yield it; drop it however we leave."""
    name = scratch_database_name()
    admin = libpq_url(server_url)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.errors.InsufficientPrivilege:
        raise KnownError(
            "the benchmark creates a scratch database and drops it afterwards; "
            "this user may not create databases (needs CREATEDB)"
        ) from None
    except psycopg.Error as exc:
        raise KnownError(f"cannot create the benchmark database: {_first_line(exc)}") from None
    try:
        with tempfile.TemporaryDirectory(prefix="inspection-viewer-bench-") as media_dir:
            url = server_url.set(database=name)
            yield _fill(url, name, spec, Path(media_dir), with_files, progress)
    finally:
        _drop(admin, name)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return mask_password(lines[0]) if lines else type(exc).__name__


def _drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
        # FORCE (PostgreSQL 13+, which the app requires) ends a straggling pooled connection.
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _fill(
    url: URL,
    name: str,
    spec: DatasetSpec,
    media_dir: Path,
    with_files: bool,
    progress: ProgressCallback,
) -> Dataset:
    engine = make_engine(url)
    store = open_store(media_dir)
    try:
        progress("Migrating the scratch database", 0, 1)
        upgrade(engine)
        progress("Migrating the scratch database", 1, 1)
        if spec.kind == "demo":
            generate_demo(engine, store, DemoSpec(), progress=progress)
        else:
            _generate(engine, spec, progress)
            if with_files:
                _write_generated_files(store, progress)
        with engine.connect() as conn:
            return _describe(conn, url, name, spec, media_dir, store)
    finally:
        engine.dispose()
        store.close()


def _generate(engine: Engine, spec: DatasetSpec, progress: ProgressCallback) -> None:
    label = "Generating rows"
    progress(label, 0, 4)
    files = sum(count for _w, _h, count in GENERATED_FILES)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO inspections (reference_code, site_name, address, inspector_name,"
                "                         status, scheduled_at)"
                " SELECT 'BENCH-' || lpad(i::text, 6, '0'), 'Benchmark site ' || i,"
                "        i || ' Benchmark Street', 'Benchmark Inspector', 'in_progress',"
                "        timestamptz '2026-11-01 08:00+00' - i * interval '1 day'"
                "   FROM generate_series(1, :n) AS i"
            ),
            {"n": spec.inspections},
        )
        progress(label, 1, 4)
        conn.execute(
            text(
                "INSERT INTO checklist_items (inspection_id, section, position, title, result)"
                " SELECT ins.id, 'Section ' || ((p - 1) / 10 + 1), p, 'Checklist item ' || p,"
                "        'pass'"
                "   FROM inspections AS ins CROSS JOIN generate_series(1, :items) AS p"
            ),
            {"items": spec.items},
        )
        progress(label, 2, 4)
        # Realistic widths of the text columns: a storage key, a hex SHA-256, a caption.
        conn.execute(
            text(
                "INSERT INTO media (inspection_id, checklist_item_id, storage_key, mime_type,"
                "                   width, height, byte_size, sha256, caption, captured_at)"
                " SELECT ci.inspection_id, ci.id,"
                "        :prefix || '/photo-' || lpad(((ci.id * :per + k) % :files)::text, 3, '0')"
                "            || '.jpg',"
                "        'image/jpeg', 4032, 3024, 2500000 + k,"
                "        md5(ci.id::text || '/' || k) || md5(k::text || '/' || ci.id),"
                "        'Photo ' || k || ' of checklist item ' || ci.position,"
                "        timestamptz '2026-11-01 08:00+00' + ci.position * interval '1 minute'"
                "            + k * interval '1 second'"
                "   FROM checklist_items AS ci CROSS JOIN generate_series(1, :per) AS k"
            ),
            {"prefix": GENERATED_PREFIX, "per": spec.media_per_item, "files": files},
        )
        progress(label, 3, 4)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE inspections, checklist_items, media"))
    progress(label, 4, 4)


def _write_generated_files(store: MediaStore, progress: ProgressCallback) -> None:
    """Photo-like JPEGs: smooth colour fields with grain, so they decode like photos."""
    label = "Writing photo files"
    sizes = [(w, h) for w, h, count in GENERATED_FILES for _ in range(count)]
    rng = random.Random(20261128)
    grains: dict[tuple[int, int], Image.Image] = {}
    progress(label, 0, len(sizes))
    for index, (width, height) in enumerate(sizes):
        if (width, height) not in grains:  # the costly part; one grain per size will do
            grains[width, height] = Image.effect_noise((width // 2, height // 2), 30).resize(
                (width, height), Image.Resampling.NEAREST
            )
        fields = [
            Image.effect_noise((width // 32, height // 32), 60 + rng.randrange(30)).resize(
                (width, height), Image.Resampling.BILINEAR
            )
            for _ in range(3)
        ]
        image = Image.merge("RGB", [Image.blend(f, grains[width, height], 0.2) for f in fields])
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=JPEG_QUALITY)
        store.write(f"{GENERATED_PREFIX}/photo-{index:03d}.jpg", buf.getvalue())
        progress(label, index + 1, len(sizes))


def _describe(
    conn: Connection, url: URL, name: str, spec: DatasetSpec, media_dir: Path, store: MediaStore
) -> Dataset:
    counts = conn.execute(
        text(
            "SELECT (SELECT count(*) FROM inspections), (SELECT count(*) FROM checklist_items),"
            "       (SELECT count(*) FROM media)"
        )
    ).one()
    per_inspection = {
        row.id: MeasuredInspection(row.id, row.reference_code, row.items, row.media)
        for row in conn.execute(
            text(
                "SELECT i.id, i.reference_code,"
                "       (SELECT count(*) FROM checklist_items ci WHERE ci.inspection_id = i.id)"
                "           AS items,"
                "       (SELECT count(*) FROM media m"
                "         WHERE m.inspection_id = i.id AND m.deleted_at IS NULL) AS media"
                "  FROM inspections i ORDER BY i.id"
            )
        )
    }
    if spec.kind == "demo":
        measured = tuple(
            m for m in per_inspection.values() if m.reference == LARGE_INSPECTION_REFERENCE
        )
    else:
        measured = tuple(per_inspection.values())
    keys = conn.execute(
        text(
            "SELECT DISTINCT storage_key FROM media"
            " WHERE inspection_id = ANY(:ids) AND deleted_at IS NULL ORDER BY storage_key"
        ),
        {"ids": [m.id for m in measured]},
    ).scalars()
    files = tuple(store.local_path(key) for key in keys if _stored(store, key))
    return Dataset(
        spec=spec,
        url=url,
        database=name,
        inspections=int(counts[0]),
        checklist_items=int(counts[1]),
        media_rows=int(counts[2]),
        measured=measured,
        all_ids=tuple(per_inspection),
        media_dir=media_dir,
        photo_files=files,
    )


def _stored(store: MediaStore, key: str) -> bool:
    """Whether the store has the key's file (the demo's missing one has none)."""
    try:
        store.stat(key)
    except StorageError:
        return False
    return True
