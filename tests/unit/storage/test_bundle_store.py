"""BundleStore on a bundle exported from a real database: keys as stored, hostile keys refused,
photos that were not taken offline missing, tampered ones damaged."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import URL

from db.engine import make_engine
from db.migrate import upgrade
from db.models import ChecklistItem, Inspection, Media
from db.offline import OfflineBundle, export_bundle, open_bundle
from db.storage import (
    LocalStore,
    MediaDamaged,
    MediaMissing,
    MediaTooLarge,
    StoreReadOnly,
)
from db.storage.bundle import BundleStore

PHOTO_A = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 20 + b"\xff\xd9"
PHOTO_B = b"\xff\xd8\xff\xe1" + bytes(reversed(range(256))) * 30 + b"\xff\xd9"
FAKE_PNG = b"\x89PNG\r\n\x1a\n a thumbnail"
T0 = datetime(2026, 4, 12, 8, 0, tzinfo=UTC)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _media_row(media_id: int, key: str, data: bytes) -> dict[str, Any]:
    return {
        "id": media_id,
        "inspection_id": 9,
        "checklist_item_id": 91,
        "storage_key": key,
        "mime_type": "image/jpeg",
        "width": 640,
        "height": 480,
        "byte_size": len(data),
        "sha256": _sha(data),
        "captured_at": T0,
    }


@pytest.fixture(scope="module")
def exported(
    create_database: Callable[[str], URL], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """One inspection with two photos in the media folder and one whose file is gone."""
    engine = make_engine(create_database("bundlestore"))
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(
                insert(Inspection),
                [
                    {
                        "id": 9,
                        "reference_code": "INS-S-1",
                        "site_name": "Store site",
                        "address": "9 Store Street",
                        "inspector_name": "B. Tester",
                        "status": "completed",
                        "scheduled_at": T0,
                    }
                ],
            )
            conn.execute(
                insert(ChecklistItem),
                [{"id": 91, "inspection_id": 9, "section": "Roof", "position": 1, "title": "Tile"}],
            )
            conn.execute(
                insert(Media),
                [
                    _media_row(901, "site/a.jpg", PHOTO_A),
                    _media_row(902, "site/b.jpg", PHOTO_B),
                    _media_row(903, "site/gone.jpg", PHOTO_B + b"x"),
                ],
            )
        media = tmp_path_factory.mktemp("media")
        (media / "site").mkdir()
        (media / "site" / "a.jpg").write_bytes(PHOTO_A)
        (media / "site" / "b.jpg").write_bytes(PHOTO_B)
        out = tmp_path_factory.mktemp("bundles") / "store.ivbundle"
        export_bundle(
            engine, LocalStore(media), ["INS-S-1"], out=out, thumbnailer=lambda _path: FAKE_PNG
        )
        return out
    finally:
        engine.dispose()


@contextlib.contextmanager
def _opened(path: Path, cache: Path) -> Iterator[OfflineBundle]:
    bundle = open_bundle(path, cache)
    try:
        yield bundle
    finally:
        asyncio.run(bundle.close())


@pytest.fixture
def store(exported: Path, tmp_path: Path) -> Iterator[BundleStore]:
    with _opened(exported, tmp_path / "cache") as bundle:
        yield bundle.store


def test_photos_come_by_their_original_storage_keys(store: BundleStore) -> None:
    path = store.local_path("site/a.jpg")
    assert path.read_bytes() == PHOTO_A
    assert path.is_relative_to(store.archive.cache_dir)
    assert store.read("site/b.jpg") == PHOTO_B
    assert store.read_range("site/b.jpg", 4, 3) == PHOTO_B[4:7]
    assert store.stat("site/b.jpg").size == len(PHOTO_B)
    assert asyncio.run(store.aread("site/a.jpg")) == PHOTO_A
    assert store.display == "Offline bundle: store.ivbundle"


@pytest.mark.parametrize(
    "key", ["../x", "/etc/passwd", "site/../../x", "site//a.jpg", "site\\a.jpg", "", "a\x00b"]
)
def test_hostile_keys_are_refused_as_damaged(store: BundleStore, key: str) -> None:
    for call in (store.local_path, store.read, store.stat):
        with pytest.raises(MediaDamaged):
            call(key)
    with pytest.raises(MediaDamaged):
        store.read_range(key, 0, 1)


def test_a_photo_not_in_the_bundle_is_missing_with_the_export_s_reason(
    store: BundleStore,
) -> None:
    with pytest.raises(MediaMissing, match=r"Photo gone\.jpg was not taken offline: the file was"):
        store.local_path("site/gone.jpg")
    with pytest.raises(MediaMissing, match="it is not in this bundle"):
        store.read("site/never.jpg")


def test_read_refuses_a_photo_over_the_limit_before_extracting(store: BundleStore) -> None:
    with pytest.raises(MediaTooLarge):
        store.read("site/b.jpg", max_bytes=100)
    assert not list(store.archive.cache_dir.glob("media/*")), "nothing was extracted"


def test_ready_thumbnail_only_for_the_export_s_size_and_photos(store: BundleStore) -> None:
    thumbnail = store.ready_thumbnail(_sha(PHOTO_A), 256)
    assert thumbnail is not None and thumbnail.read_bytes() == FAKE_PNG
    assert store.ready_thumbnail(_sha(PHOTO_A), 1024) is None
    assert store.ready_thumbnail(_sha(b"another photo"), 128) is None
    assert store.ready_thumbnail("../../etc/passwd", 128) is None


def test_the_store_is_read_only(store: BundleStore) -> None:
    assert not store.writable
    with pytest.raises(StoreReadOnly):
        store.write("site/new.jpg", b"data")


def test_a_tampered_photo_is_damaged_and_never_handed_out(exported: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "tampered.ivbundle"
    with zipfile.ZipFile(exported) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if data == PHOTO_A:  # same size, a valid CRC: only the SHA-256 can tell
                data = bytes(reversed(data))
            dst.writestr(info, data)
    with _opened(tampered, tmp_path / "cache") as bundle:
        with pytest.raises(MediaDamaged) as caught:
            bundle.store.local_path("site/a.jpg")
        assert caught.value.reason == (
            "Photo a.jpg is damaged: it does not match its checksum (SHA-256) in tampered.ivbundle"
        )
        with pytest.raises(MediaDamaged):
            bundle.store.read("site/a.jpg")
        assert bundle.store.read("site/b.jpg") == PHOTO_B, "the other photos still come"
