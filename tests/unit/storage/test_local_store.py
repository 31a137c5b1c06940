"""LocalStore: keys stay inside the folder, failures are classified once, writes are atomic."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from db.errors import ConfigError
from db.storage import (
    LocalStore,
    MediaDamaged,
    MediaMissing,
    MediaTooLarge,
    open_store,
)

HOSTILE_KEYS = [
    "../outside.jpg",
    "a/../../outside.jpg",
    "/etc/passwd",
    "a//b.jpg",
    "./a.jpg",
    "a\\..\\b.jpg",
    "a\x00.jpg",
    "",
    "x" * 2000,
]


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    root = tmp_path / "media"
    (root / "site").mkdir(parents=True)
    (root / "site" / "a.jpg").write_bytes(b"0123456789")
    (tmp_path / "outside.jpg").write_bytes(b"secret")
    return LocalStore(root)


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_a_key_that_could_leave_the_folder_is_refused_before_any_io(
    store: LocalStore, key: str
) -> None:
    for call in (store.stat, store.read, store.local_path):
        with pytest.raises(MediaDamaged):
            call(key)
    with pytest.raises(MediaDamaged):
        store.write(key, b"x")
    assert (store.root.parent / "outside.jpg").read_bytes() == b"secret"


def test_reads_whole_ranges_and_sizes(store: LocalStore) -> None:
    assert store.read("site/a.jpg") == b"0123456789"
    assert store.read_range("site/a.jpg", 2, 3) == b"234"
    assert store.stat("site/a.jpg").size == 10
    assert asyncio.run(store.aread("site/a.jpg")) == b"0123456789"
    assert store.describe("site/a.jpg") == str(store.root / "site" / "a.jpg")


def test_failures_are_classified_for_the_user(store: LocalStore) -> None:
    with pytest.raises(MediaMissing, match=r"File not found: site/absent\.jpg"):
        store.read("site/absent.jpg")
    with pytest.raises(MediaDamaged, match="folder"):
        store.read("site")
    with pytest.raises(MediaTooLarge):
        store.read("site/a.jpg", max_bytes=4)


def test_write_replaces_atomically_and_leaves_no_temporary_file(store: LocalStore) -> None:
    store.write("new/b.jpg", b"abc")
    store.write("new/b.jpg", b"abcd")
    assert store.read("new/b.jpg") == b"abcd"
    assert [p.name for p in (store.root / "new").iterdir()] == ["b.jpg"]
    store.delete("new/b.jpg")
    store.delete("new/b.jpg")  # gone already: not an error
    with pytest.raises(MediaMissing):
        store.stat("new/b.jpg")


def test_locations_open_the_right_store(tmp_path: Path) -> None:
    assert isinstance(open_store(tmp_path), LocalStore)
    assert open_store(tmp_path.as_uri()).root == tmp_path.resolve()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a folder"):
        open_store(tmp_path / "file")
    with pytest.raises(ConfigError, match="unsupported"):
        open_store("ftp://example.invalid/photos")
    with pytest.raises(ConfigError, match="no host"):
        open_store("file://otherhost/photos")
