"""Offline bundles built by hand for the tests: a valid one, and the pieces to damage it."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from db.offline import (
    DATABASE_NAME,
    FORMAT_VERSION,
    MANIFEST_NAME,
    SCHEMA_SQL,
    TABLE_COLUMNS,
    BundledInspection,
    FileEntry,
    Manifest,
    UnavailableMedia,
    encode_timestamp,
)
from db.offline.cache import LOCK_NAME

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"
PHOTO_SHA = hashlib.sha256(PHOTO).hexdigest()
MEDIA_ENTRY = f"media/{PHOTO_SHA}.jpg"
# A time zone other than UTC on purpose: the round trip must keep the instant and the awareness.
CAPTURED = datetime(2026, 4, 12, 18, 30, 15, 123456, tzinfo=timezone(timedelta(hours=10)))


def table_rows() -> dict[str, list[dict[str, Any]]]:
    t0 = datetime(2026, 4, 12, 8, 0, tzinfo=UTC)
    inspection = {
        "id": 7,
        "reference_code": "INS-T-1",
        "site_name": "Test site",
        "address": "1 Test Street",
        "inspector_name": "A. Tester",
        "status": "completed",
        "scheduled_at": t0,
        "completed_at": t0 + timedelta(hours=4),
        "created_at": t0,
        "updated_at": t0,
    }
    items = [
        {
            "id": 70 + n,
            "inspection_id": 7,
            "section": "Exterior",
            "position": n,
            "title": f"Item {n}",
            "result": "pass",
            "notes": None,
            "updated_at": t0,
        }
        for n in (1, 2)
    ]
    media = [
        {
            "id": 700 + n,
            "inspection_id": 7,
            "checklist_item_id": 71,
            "storage_key": key,
            "mime_type": "image/jpeg",
            "width": 640,
            "height": 480,
            "byte_size": len(PHOTO),
            "sha256": PHOTO_SHA,
            "caption": f"photo {n}",
            "captured_at": CAPTURED + timedelta(minutes=n),
            "created_at": t0,
            "deleted_at": None,
        }
        for n, key in ((1, "site/a.jpg"), (2, "site/missing.jpg"))
    ]
    return {"inspections": [inspection], "checklist_items": items, "media": media}


def database_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "build" / "inspections.sqlite"
    path.parent.mkdir(exist_ok=True)
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.executescript(SCHEMA_SQL)
    for table, rows in table_rows().items():
        columns = TABLE_COLUMNS[table]
        con.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            (
                [encode_timestamp(v) if isinstance(v, datetime) else v for v in map(r.get, columns)]
                for r in rows
            ),
        )
    con.commit()
    con.close()
    return path.read_bytes()


def manifest_for(files: dict[str, bytes]) -> Manifest:
    return Manifest(
        format_version=FORMAT_VERSION,
        app_version="0.1.0",
        created_at=datetime(2026, 5, 1, tzinfo=UTC),
        source="postgresql://inspector:***@db.example.org/inspections",
        inspections=(BundledInspection(7, "INS-T-1", "completed", 2, 2),),
        counts={"inspections": 1, "checklist_items": 2, "media": 2},
        files={n: FileEntry(hashlib.sha256(d).hexdigest(), len(d)) for n, d in files.items()},
        media={"site/a.jpg": MEDIA_ENTRY},
        unavailable=(
            UnavailableMedia(702, 7, "site/missing.jpg", "missing", "the file was missing"),
        ),
    )


Entries = list[tuple[zipfile.ZipInfo | str, bytes]]


def write_zip(path: Path, entries: Entries) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return path


def bundle_entries(
    tmp_path: Path,
    *,
    manifest: Callable[[dict[str, Any]], None] | None = None,
    files: dict[str, bytes] | None = None,
) -> Entries:
    """A valid bundle's entries; `manifest` may edit the manifest document before writing."""
    content = files or {DATABASE_NAME: database_bytes(tmp_path), MEDIA_ENTRY: PHOTO}
    doc = json.loads(manifest_for(content).to_json())
    if manifest is not None:
        manifest(doc)
    entries: Entries = list(content.items())
    entries.append((MANIFEST_NAME, json.dumps(doc).encode()))
    return entries


def extracted(folder: Path) -> list[str]:
    """The names of the files extracted under `folder` (the cache's lock files left out)."""
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and p.name != LOCK_NAME)


# --- archives written byte by byte, for entries zipfile would not write ------------------------


@dataclass(frozen=True)
class RawEntry:
    """One entry as it goes into the archive: `data` already compressed if `deflated`, with the
    size and CRC-32 the archive claims for it, and the SHA-256 the manifest claims (those of
    `data` for a stored entry). Any of them may be a lie."""

    name: str
    data: bytes
    size: int
    crc: int
    deflated: bool = False
    sha256: str = ""

    @classmethod
    def stored(cls, name: str, data: bytes) -> RawEntry:
        return cls(name, data, len(data), zlib.crc32(data), sha256=hashlib.sha256(data).hexdigest())

    @classmethod
    def inflating_to(cls, name: str, stream: bytes, content: bytes) -> RawEntry:
        """A deflated entry claiming `content`'s size and checksums; `stream` may be more."""
        sha = hashlib.sha256(content).hexdigest()
        return cls(name, stream, len(content), zlib.crc32(content), True, sha)


def write_raw_zip(path: Path, entries: list[RawEntry]) -> Path:
    """A ZIP archive of `entries` with exactly the sizes and checksums they claim."""
    body, directory = bytearray(), bytearray()
    for e in entries:
        name = e.name.encode()
        method = zipfile.ZIP_DEFLATED if e.deflated else zipfile.ZIP_STORED
        fields = (method, 0, 0x21, e.crc, len(e.data), e.size, len(name))
        directory += struct.pack("<IHHH", 0x02014B50, 20, 20, 0)
        directory += struct.pack("<HHHIIIH", *fields)
        directory += struct.pack("<HHHHII", 0, 0, 0, 0, 0o644 << 16, len(body)) + name
        body += struct.pack("<IHH", 0x04034B50, 20, 0)
        body += struct.pack("<HHHIIIHH", *fields, 0) + name + e.data
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), len(body), 0
    )
    path.write_bytes(bytes(body + directory + end))
    return path


def deflated_zeros(size: int) -> bytes:
    """A raw deflate stream of `size` zero bytes (a multiple of 1 MiB), made in milliseconds:
    after a full flush the compressor starts afresh, so one block can be repeated."""
    chunk = 1024 * 1024
    assert size % chunk == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block * (size // chunk) + compressor.flush()


def raw_bundle(path: Path, entries: list[RawEntry]) -> Path:
    """A bundle of `entries` and a manifest that agrees with what they claim."""
    doc = json.loads(manifest_for({}).to_json())
    for e in entries:
        doc["files"][e.name] = {"sha256": e.sha256, "size": e.size}
    manifest = RawEntry.stored(MANIFEST_NAME, json.dumps(doc).encode())
    return write_raw_zip(path, [*entries, manifest])
