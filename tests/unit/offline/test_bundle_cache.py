"""The bundle cache is pruned when a bundle opens: least recently used first, down to its cap,
never the bundle being opened nor one open in this or another process."""

from __future__ import annotations

import asyncio
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from db.offline import BundleLimits, OfflineBundle, open_bundle, prune_bundle_cache
from db.offline.cache import LOCK_NAME
from tests.unit.offline.bundles import bundle_entries, write_zip

REPO = Path(__file__).resolve().parents[3]

_HOLD_OPEN = """
import sys
from pathlib import Path
from db.offline import open_bundle
bundle = open_bundle(Path(sys.argv[1]), Path(sys.argv[2]))
print(bundle.archive.cache_dir.name, flush=True)
sys.stdin.read()
"""


def _bundle(tmp_path: Path, n: int) -> Path:
    """Bundle number `n`: its own manifest, so its own cache folder."""

    def version(doc: dict[str, Any]) -> None:
        doc["app_version"] = f"0.1.{n}"

    return write_zip(tmp_path / f"b{n}.ivbundle", bundle_entries(tmp_path, manifest=version))


def _open(path: Path, cache: Path, cap: int | None = None) -> OfflineBundle:
    limits = BundleLimits() if cap is None else BundleLimits(cache_bytes=cap)
    return open_bundle(path, cache, limits)


def _opened_once(path: Path, cache: Path, last_use: int) -> str:
    """Open and close a bundle, its last use then set to `last_use` (ns): its folder's name."""
    bundle = _open(path, cache)
    folder = bundle.archive.cache_dir
    asyncio.run(bundle.close())
    os.utime(folder / LOCK_NAME, ns=(last_use, last_use))
    return folder.name


def _folders(cache: Path) -> set[str]:
    return {p.name for p in (cache / "bundles").iterdir()}


def _folder_bytes(cache: Path, name: str) -> int:
    return sum(p.stat().st_size for p in (cache / "bundles" / name).rglob("*") if p.is_file())


def test_least_recently_used_bundles_are_evicted_down_to_the_cap(
    tmp_path: Path, cache: Path
) -> None:
    # Last used at t = 3, 2 and 1 (ns): "old" is the most recent of them.
    old, older, oldest = (
        _opened_once(_bundle(tmp_path, n), cache, t) for n, t in ((1, 3), (2, 2), (3, 1))
    )
    size = _folder_bytes(cache, old)
    newest = _open(_bundle(tmp_path, 9), cache, cap=2 * size)
    try:
        assert _folders(cache) == {old, newest.archive.cache_dir.name}
        assert not {older, oldest} & _folders(cache)
    finally:
        asyncio.run(newest.close())
    assert not [p for p in (cache / "bundles").iterdir() if p.name.startswith(".")]


def test_the_order_is_by_last_use_not_by_first_extraction(tmp_path: Path, cache: Path) -> None:
    first = _bundle(tmp_path, 1)
    a = _opened_once(first, cache, 1)
    b = _opened_once(_bundle(tmp_path, 2), cache, 2)
    reopened = _open(first, cache)  # a is used again: now b is the least recently used
    asyncio.run(reopened.close())
    current = _open(_bundle(tmp_path, 3), cache, cap=2 * _folder_bytes(cache, a))
    try:
        assert _folders(cache) == {a, current.archive.cache_dir.name}
        assert b not in _folders(cache)
    finally:
        asyncio.run(current.close())


def test_the_bundle_being_opened_stays_even_alone_over_the_cap(tmp_path: Path, cache: Path) -> None:
    other = _opened_once(_bundle(tmp_path, 1), cache, 1)
    bundle = _open(_bundle(tmp_path, 2), cache, cap=0)
    try:
        assert _folders(cache) == {bundle.archive.cache_dir.name}
        assert other not in _folders(cache)
        assert bundle.store.local_path("site/a.jpg").is_file(), "photos still extract"
    finally:
        asyncio.run(bundle.close())


def test_a_bundle_open_in_this_process_is_never_evicted(tmp_path: Path, cache: Path) -> None:
    still_open = _open(_bundle(tmp_path, 1), cache)
    os.utime(still_open.archive.cache_dir / LOCK_NAME, ns=(1, 1))  # the least recently used
    closed = _opened_once(_bundle(tmp_path, 2), cache, 2)
    try:
        current = _open(_bundle(tmp_path, 3), cache, cap=0)
        asyncio.run(current.close())
        assert still_open.archive.cache_dir.name in _folders(cache)
        assert closed not in _folders(cache)
        assert still_open.store.local_path("site/a.jpg").is_file()
    finally:
        asyncio.run(still_open.close())


@pytest.fixture
def open_in_another_process(tmp_path: Path, cache: Path) -> Iterator[str]:
    """Bundle 1 held open by a second app instance; its cache folder's name."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD_OPEN, str(_bundle(tmp_path, 1)), str(cache)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "the other process did not open its bundle in 60 s"
        yield proc.stdout.readline().strip()
    finally:
        proc.stdin.close()
        proc.wait(60)


def test_a_bundle_open_in_another_process_is_never_evicted(
    tmp_path: Path, cache: Path, open_in_another_process: str
) -> None:
    held = open_in_another_process
    os.utime(cache / "bundles" / held / LOCK_NAME, ns=(1, 1))
    current = _open(_bundle(tmp_path, 2), cache, cap=0)
    asyncio.run(current.close())
    assert _folders(cache) == {held, current.archive.cache_dir.name}


def test_a_folder_left_by_a_prune_that_was_killed_is_removed(tmp_path: Path, cache: Path) -> None:
    abandoned = cache / "bundles" / ".evicting-0123456789ab"
    (abandoned / "media").mkdir(parents=True)
    (abandoned / "media" / "x.jpg").write_bytes(b"x" * 100)
    not_ours = cache / "bundles" / "notes"
    not_ours.mkdir()
    bundle = _open(_bundle(tmp_path, 1), cache, cap=0)
    asyncio.run(bundle.close())
    assert _folders(cache) == {bundle.archive.cache_dir.name, "notes"}


def test_prune_of_a_cache_that_does_not_exist_yet(tmp_path: Path) -> None:
    result = prune_bundle_cache(tmp_path / "nowhere" / "bundles", 0, tmp_path / "x")
    assert result.evicted == ()
