"""The local cache of downloaded photos: bounded in bytes, least recently used goes first."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from db.storage import MediaDamaged, MediaTooLarge
from db.storage.download_cache import DownloadCache


def fill(cache: DownloadCache, key: str, size: int) -> None:
    cache.add(key, b"x" * size)


def test_the_least_recently_used_file_goes_when_room_is_needed(tmp_path: Path) -> None:
    cache = DownloadCache(tmp_path, max_bytes=1000)
    fill(cache, "a/1.jpg", 400)
    fill(cache, "a/2.jpg", 400)
    assert cache.get("a/1.jpg") is not None  # 1 is now the most recent
    fill(cache, "a/3.jpg", 400)
    assert cache.get("a/2.jpg") is None
    assert not (tmp_path / "a" / "2.jpg").exists()
    stats = cache.stats()
    assert (stats.files, stats.bytes, stats.evictions) == (2, 800, 1)
    assert stats.peak_bytes <= 1000


def test_an_object_larger_than_the_cache_is_refused_before_downloading(tmp_path: Path) -> None:
    cache = DownloadCache(tmp_path, max_bytes=100)
    with pytest.raises(MediaTooLarge, match="larger than the local media cache"):
        fill(cache, "big.jpg", 101)


def test_a_failed_download_leaves_nothing_and_releases_its_room(tmp_path: Path) -> None:
    cache = DownloadCache(tmp_path, max_bytes=100)
    with pytest.raises(RuntimeError), cache.download("a.jpg", 80) as (partial, _final):
        partial.write_bytes(b"x" * 10)
        raise RuntimeError("cut short")
    assert list(tmp_path.rglob("*")) == []
    assert cache.stats().reserved == 0


def test_a_restart_finds_the_files_and_drops_partial_ones(tmp_path: Path) -> None:
    cache = DownloadCache(tmp_path, max_bytes=1000)
    fill(cache, "old.jpg", 300)
    fill(cache, "new.jpg", 300)
    os.utime(tmp_path / "old.jpg", (1, 1))
    (tmp_path / ".partial-killed").write_bytes(b"x")
    again = DownloadCache(tmp_path, max_bytes=500)  # smaller now: the oldest use goes
    assert again.get("old.jpg") is None and again.get("new.jpg") is not None
    assert not (tmp_path / ".partial-killed").exists()


def test_a_file_just_handed_out_is_not_evicted_under_its_reader(tmp_path: Path) -> None:
    cache = DownloadCache(tmp_path, max_bytes=300, pin_s=0.2)
    fill(cache, "a.jpg", 200)
    path = cache.get("a.jpg")
    assert path is not None
    fill(cache, "b.jpg", 200)  # waits for a.jpg's pin to end instead of deleting it at once
    assert cache.get("a.jpg") is None and cache.stats().peak_bytes <= 300


def test_a_key_that_would_leave_the_cache_is_refused(tmp_path: Path) -> None:
    cache = DownloadCache(tmp_path / "c", max_bytes=100)
    with pytest.raises(MediaDamaged):
        cache.add("../outside.jpg", b"x")


def test_concurrent_downloads_never_take_the_cache_over_its_cap(tmp_path: Path) -> None:
    cache = DownloadCache(tmp_path, max_bytes=1000, pin_s=0.005)
    gate = threading.Barrier(8)

    def download(number: int) -> None:
        gate.wait()
        for round_ in range(20):
            fill(cache, f"{number}/{round_}.jpg", 150)

    threads = [threading.Thread(target=download, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = cache.stats()
    assert stats.peak_bytes <= 1000
    assert sum(p.stat().st_size for p in tmp_path.rglob("*.jpg")) == stats.bytes <= 1000
