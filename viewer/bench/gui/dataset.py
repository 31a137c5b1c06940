"""The GUI benchmark's data: the demo in a scratch database plus one generated large inspection.

The large inspection's photos are hard links (symbolic links where the file system has none)
to the demo's photo files, one path per media row: the thumbnail disk cache is keyed by the
original's URI, so every photo of the large inspection is a decode of its own when the caches
are cold, as with real photos, for the disk space of the demo's 48 files.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import URL

from db.config import libpq_url
from db.demo import BAD_MEDIA_INSPECTION_REFERENCE, LARGE_INSPECTION_REFERENCE
from db.engine import make_engine
from db.progress import ProgressCallback
from viewer.bench.dataset import Dataset, DatasetSpec, scratch_dataset

LARGE_PREFIX = "benchgui"
BAD_MEDIA_PREFIX = "demo/bad/"
LINK_LABEL = "Linking the large inspection's photos"


@dataclass(frozen=True, slots=True)
class Shown:
    """An inspection the scenarios select."""

    id: int
    reference: str
    photos: int  # live photos: the rows "All media" shows
    items: int


@dataclass(frozen=True, slots=True)
class GuiDataset:
    url: URL  # the scratch database
    database: str
    media_dir: Path
    inspections: int
    media_rows: int
    demo_large: Shown  # the demo's 1,100-photo inspection
    generated: Shown  # the generated large one (20,000 photos by default)
    small: Shown  # a small inspection to start on and to step away to
    link_kind: str  # "hard link" | "symbolic link"
    distinct_files: int  # photo files behind the generated inspection's paths
    # Live media ids of the shown inspections: what tells the probe the grid shows one of them
    media_ids: dict[int, frozenset[int]]

    @property
    def libpq(self) -> str:
        return libpq_url(self.url)


@contextlib.contextmanager
def gui_dataset(
    server_url: URL, items: int, media_per_item: int, reference: str, progress: ProgressCallback
) -> Iterator[GuiDataset]:
    """The demo plus `items` x `media_per_item` photos in one more inspection; all dropped after."""
    with scratch_dataset(server_url, DatasetSpec(), with_files=True, progress=progress) as demo:
        engine = make_engine(demo.url)
        try:
            with engine.begin() as conn:
                sources = _demo_files(conn, demo)
                inspection_id = _insert_large(conn, reference, items, media_per_item, sources)
            with engine.begin() as conn:
                conn.execute(text("ANALYZE inspections, checklist_items, media"))
            with engine.connect() as conn:
                keys = _large_keys(conn, inspection_id)
                link_kind = _link_photos(demo.media_dir, keys, media_per_item, sources, progress)
                yield _describe(conn, demo, inspection_id, link_kind, len(sources))
        finally:
            engine.dispose()


def _demo_files(conn: Connection, demo: Dataset) -> list[tuple[str, int, int, int]]:
    """The demo's readable photo files: (storage key, width, height, bytes), in key order."""
    rows = conn.execute(
        text(
            "SELECT storage_key, min(width), min(height), min(byte_size) FROM media"
            " WHERE deleted_at IS NULL AND storage_key NOT LIKE :bad"
            " GROUP BY storage_key ORDER BY storage_key"
        ),
        {"bad": BAD_MEDIA_PREFIX + "%"},
    ).all()
    files = [
        (str(r[0]), int(r[1]), int(r[2]), int(r[3]))
        for r in rows
        if (demo.media_dir / str(r[0])).is_file()
    ]
    if not files:
        raise RuntimeError("the demo wrote no photo files to link the large inspection to")
    return files


def _insert_large(
    conn: Connection,
    reference: str,
    items: int,
    per_item: int,
    sources: list[tuple[str, int, int, int]],
) -> int:
    inspection_id = int(
        conn.execute(
            text(
                "INSERT INTO inspections (reference_code, site_name, address, inspector_name,"
                "                         status, scheduled_at)"
                " VALUES (:ref, 'Benchmark site (GUI)', '1 Benchmark Street',"
                "         'Benchmark Inspector', 'in_progress', timestamptz '2026-10-20 08:00+00')"
                " RETURNING id"
            ),
            {"ref": reference},
        ).scalar_one()
    )
    conn.execute(
        text(
            "INSERT INTO checklist_items (inspection_id, section, position, title, result)"
            " SELECT :id, 'Section ' || ((p - 1) / 10 + 1), p, 'Checklist item ' || p, 'pass'"
            "   FROM generate_series(1, :items) AS p"
        ),
        {"id": inspection_id, "items": items},
    )
    # Photo k of item p is file ((p - 1) * per + k - 1) mod n of the demo's; its own path, and
    # a SHA-256-wide checksum of its own as a distinct photo would have.
    conn.execute(
        text(
            "INSERT INTO media (inspection_id, checklist_item_id, storage_key, mime_type,"
            "                   width, height, byte_size, sha256, caption, captured_at)"
            " SELECT ci.inspection_id, ci.id,"
            "        :prefix || '/' || lpad(ci.position::text, 4, '0') || '/'"
            "            || lpad(k::text, 2, '0') || '.jpg',"
            "        'image/jpeg', (CAST(:w AS int[]))[s.f], (CAST(:h AS int[]))[s.f],"
            "        (CAST(:b AS bigint[]))[s.f],"
            "        md5(ci.id::text || '/' || k) || md5(k::text || '/' || ci.id),"
            "        'Photo ' || k || ' of checklist item ' || ci.position,"
            "        timestamptz '2026-10-20 08:00+00' + ci.position * interval '1 minute'"
            "            + k * interval '1 second'"
            "   FROM checklist_items AS ci CROSS JOIN generate_series(1, :per) AS k"
            "   CROSS JOIN LATERAL (SELECT ((ci.position - 1) * :per + k - 1) % :n + 1 AS f) AS s"
            "  WHERE ci.inspection_id = :id"
        ),
        {
            "id": inspection_id,
            "per": per_item,
            "n": len(sources),
            "prefix": LARGE_PREFIX,
            "w": [s[1] for s in sources],
            "h": [s[2] for s in sources],
            "b": [s[3] for s in sources],
        },
    )
    return inspection_id


def _large_keys(conn: Connection, inspection_id: int) -> list[str]:
    rows = conn.execute(
        text("SELECT storage_key FROM media WHERE inspection_id = :id ORDER BY id"),
        {"id": inspection_id},
    ).scalars()
    return [str(key) for key in rows]


def _link_photos(
    media_dir: Path,
    keys: list[str],
    per_item: int,
    sources: list[tuple[str, int, int, int]],
    progress: ProgressCallback,
) -> str:
    """Give every generated key its file: the demo file the insert took its size from."""
    kind = "hard link"
    progress(LINK_LABEL, 0, len(keys))
    for done, key in enumerate(keys, 1):
        _prefix, position, name = key.split("/")  # benchgui/<position>/<number>.jpg
        index = ((int(position) - 1) * per_item + int(name.removesuffix(".jpg")) - 1) % len(sources)
        source, target = media_dir / sources[index][0], media_dir / key
        target.parent.mkdir(parents=True, exist_ok=True)
        if kind == "hard link":
            try:
                os.link(source, target)
            except OSError:  # a file system without hard links (or across devices)
                kind = "symbolic link"
        if kind == "symbolic link":
            target.symlink_to(source)
        if done % 1000 == 0 or done == len(keys):
            progress(LINK_LABEL, done, len(keys))
    return kind


def _shown(conn: Connection, where: str, params: dict[str, object]) -> Shown:
    row = conn.execute(
        text(
            "SELECT i.id, i.reference_code,"
            "       (SELECT count(*) FROM media m"
            "         WHERE m.inspection_id = i.id AND m.deleted_at IS NULL) AS photos,"
            "       (SELECT count(*) FROM checklist_items c WHERE c.inspection_id = i.id)"
            "  FROM inspections i WHERE " + where
        ),
        params,
    ).first()
    if row is None:
        raise RuntimeError(f"no inspection matches {where} {params}")
    return Shown(int(row[0]), str(row[1]), int(row[2]), int(row[3]))


def _describe(
    conn: Connection, demo: Dataset, inspection_id: int, link_kind: str, files: int
) -> GuiDataset:
    counts = conn.execute(
        text("SELECT (SELECT count(*) FROM inspections), (SELECT count(*) FROM media)")
    ).one()
    # The smallest inspection that has photos and no deliberately broken ones.
    small = _shown(
        conn,
        "i.reference_code <> :bad AND EXISTS (SELECT 1 FROM media m WHERE"
        " m.inspection_id = i.id AND m.deleted_at IS NULL)"
        " ORDER BY (SELECT count(*) FROM media m WHERE m.inspection_id = i.id), i.id LIMIT 1",
        {"bad": BAD_MEDIA_INSPECTION_REFERENCE},
    )
    demo_large = _shown(conn, "i.reference_code = :r", {"r": LARGE_INSPECTION_REFERENCE})
    generated = _shown(conn, "i.id = :id", {"id": inspection_id})
    return GuiDataset(
        url=demo.url,
        database=demo.database,
        media_dir=demo.media_dir,
        inspections=int(counts[0]),
        media_rows=int(counts[1]),
        demo_large=demo_large,
        generated=generated,
        small=small,
        link_kind=link_kind,
        distinct_files=files,
        media_ids={s.id: _media_ids(conn, s.id) for s in (small, demo_large, generated)},
    )


def _media_ids(conn: Connection, inspection_id: int) -> frozenset[int]:
    rows = conn.execute(
        text("SELECT id FROM media WHERE inspection_id = :id AND deleted_at IS NULL"),
        {"id": inspection_id},
    ).scalars()
    return frozenset(int(i) for i in rows)
