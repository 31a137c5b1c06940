"""Hostile bundles that would hang or fill the disk: a recursive view for a table, a database
that expands a thousandfold, photos and thumbnails over their limits. Each is refused by a
limit of our own, quickly, leaving nothing half-written in the cache."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from db.offline import (
    DATABASE_NAME,
    BundleArchive,
    BundleCorruptError,
    BundleLimits,
    BundleTooLargeError,
    open_bundle,
)
from db.offline import schema as bundle_schema
from db.storage import MediaTooLarge
from tests.unit.offline.bundles import (
    MEDIA_ENTRY,
    PHOTO,
    PHOTO_SHA,
    RawEntry,
    bundle_entries,
    database_bytes,
    deflated_zeros,
    extracted,
    raw_bundle,
    write_zip,
)
from viewer.thumbnails.decode import DEFAULT_MAX_FILE_BYTES, ErrorKind, error_for_storage

REPO = Path(__file__).resolve().parents[3]
MIB = 1024 * 1024

# --- the schema is checked before any query, and the check itself is bounded ----------------

_RECURSIVE_VIEW = """
DROP TABLE inspections;
CREATE VIEW inspections AS
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)
SELECT i AS id, 'INS-' || i AS reference_code, 'site' AS site_name, 'street' AS address,
       'inspector' AS inspector_name, 'completed' AS status,
       '2026-04-12 08:00:00.000000+00:00' AS scheduled_at, NULL AS completed_at,
       '2026-04-12 08:00:00.000000+00:00' AS created_at,
       '2026-04-12 08:00:00.000000+00:00' AS updated_at
FROM n;
"""

# What the app does with a bundle: open it, then list its inspections. Run in a child process
# so that a hang is a failed test (the timeout), not a test run that never ends.
_OPEN_AND_LIST = """
import asyncio, sys
from pathlib import Path
from db.offline import BundleError, open_bundle
from db.queries import list_inspections
try:
    bundle = open_bundle(Path(sys.argv[1]), Path(sys.argv[2]))
except BundleError as exc:
    print(exc)
    sys.exit(3)
async def listing():
    async with bundle.engine.connect() as conn:
        return await list_inspections(conn)
print("LISTED", len(asyncio.run(listing()).rows))
"""


def _database_with(tmp_path: Path, sql: str) -> bytes:
    database_bytes(tmp_path)
    path = tmp_path / "build" / DATABASE_NAME
    con = sqlite3.connect(path)
    con.executescript(sql)
    con.commit()
    con.close()
    return path.read_bytes()


def test_a_recursive_view_in_place_of_a_table_is_refused_quickly_not_run(
    tmp_path: Path, cache: Path
) -> None:
    database = _database_with(tmp_path, _RECURSIVE_VIEW)
    entries = bundle_entries(tmp_path, files={DATABASE_NAME: database, MEDIA_ENTRY: PHOTO})
    bundle = write_zip(tmp_path / "view.ivbundle", entries)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _OPEN_AND_LIST, str(bundle), str(cache)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("opening and listing a bundle with a recursive view did not finish in 60 s")
    assert (proc.returncode, proc.stdout.strip()) == (
        3,
        "view.ivbundle is damaged: its database does not have the tables of bundle format 1",
    ), proc.stderr


def test_the_schema_check_is_bounded_in_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / DATABASE_NAME
    path.write_bytes(database_bytes(tmp_path))
    bundle_schema.check_database(path, "b.ivbundle")  # well within the bound
    monkeypatch.setattr(bundle_schema, "MAX_CHECK_STEPS", 0)
    with pytest.raises(BundleCorruptError, match=r"cannot be read \(interrupted\)"):
        bundle_schema.check_database(path, "b.ivbundle")


# --- extraction is bounded by our limits, not the bundle's claims ----------------------------

# zlib.crc32 and hashlib.sha256 of 1.5 GiB of zero bytes (computed once; 3 s each to redo).
_ZEROS_1536_MIB_CRC = 0x400AE278
_ZEROS_1536_MIB_SHA = "b7a1ca05cae9eefbf2deee895f4fb34c8d8ffc5d6665982424e0b2711c79ed1d"


def test_a_database_that_expands_to_1_5_gb_is_refused_before_a_byte_is_written(
    tmp_path: Path, cache: Path
) -> None:
    """1.5 MB in the file, 1.5 GiB once inflated, and the manifest and the archive agree on it:
    only our own limit can tell. Before the limit, all of it went into the cache."""
    size = 1536 * MIB
    bomb = RawEntry(
        DATABASE_NAME, deflated_zeros(size), size, _ZEROS_1536_MIB_CRC, True, _ZEROS_1536_MIB_SHA
    )
    path = raw_bundle(tmp_path / "bomb.ivbundle", [bomb, RawEntry.stored(MEDIA_ENTRY, PHOTO)])
    assert path.stat().st_size < 2 * MIB
    started = time.perf_counter()
    with pytest.raises(BundleTooLargeError) as caught:
        open_bundle(path, cache)
    assert time.perf_counter() - started < 5
    assert str(caught.value) == (
        "bomb.ivbundle was refused: its database would expand to 1,536 MB, over the limit of 512 MB"
    )
    assert not cache.exists(), "nothing was extracted, not even a partial file"


def test_a_deflate_stream_longer_than_its_entry_is_cut_at_the_entry_s_size(
    tmp_path: Path, cache: Path
) -> None:
    """The archive says the database has its real size, and its stream goes on for 1.5 GiB
    after that: extraction stops at the size, and no byte more reaches the disk."""
    database = database_bytes(tmp_path)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(database) + compressor.flush(zlib.Z_FULL_FLUSH)
    stream = head + deflated_zeros(1536 * MIB)
    entry = RawEntry.inflating_to(DATABASE_NAME, stream, database)
    path = raw_bundle(tmp_path / "long.ivbundle", [entry, RawEntry.stored(MEDIA_ENTRY, PHOTO)])
    bundle = open_bundle(path, cache)
    try:
        assert (bundle.archive.cache_dir / DATABASE_NAME).read_bytes() == database
        assert extracted(cache) == [DATABASE_NAME]
    finally:
        asyncio.run(bundle.close())


def test_deflated_entries_together_may_not_expand_past_the_bundle_s_size_and_allowance(
    tmp_path: Path, cache: Path
) -> None:
    """Each photo is within its own limit; together they would write 40 MB from a file of a
    few KB, and the allowance over the file's size is 8 MB here."""
    zeros = deflated_zeros(10 * MIB)
    photos = [
        RawEntry.inflating_to(f"media/{n:064x}.jpg", zeros, bytes(10 * MIB)) for n in range(4)
    ]
    path = raw_bundle(
        tmp_path / "many.ivbundle",
        [
            RawEntry.stored(DATABASE_NAME, database_bytes(tmp_path)),
            *photos,
            RawEntry.stored(MEDIA_ENTRY, PHOTO),
        ],
    )
    limits = BundleLimits(media_bytes=16 * MIB, expansion_bytes=8 * MIB)
    with pytest.raises(
        BundleTooLargeError,
        match=r"expand to 40 MB, more than 8 MB over the bundle.s own \d+,\d+ bytes",
    ):
        BundleArchive(path, cache, limits)
    assert not cache.exists()


def test_a_photo_over_its_limit_is_too_large_and_never_extracted(
    good_bundle: Path, cache: Path
) -> None:
    limits = BundleLimits(media_bytes=len(PHOTO) - 1)
    bundle = open_bundle(good_bundle, cache, limits)
    try:
        with pytest.raises(MediaTooLarge) as caught:
            bundle.store.local_path("site/a.jpg")
        assert "over the limit of" in caught.value.reason
        assert error_for_storage(caught.value).kind is ErrorKind.TOO_LARGE
        assert extracted(cache) == [DATABASE_NAME]
    finally:
        asyncio.run(bundle.close())


def test_a_thumbnail_over_its_limit_is_skipped_for_the_original(
    tmp_path: Path, cache: Path
) -> None:
    thumbnail = f"thumbnails/{PHOTO_SHA}.png"
    files = {
        DATABASE_NAME: database_bytes(tmp_path),
        MEDIA_ENTRY: PHOTO,
        thumbnail: b"\x89PNG\r\n\x1a\n" + bytes(3000),
    }
    path = write_zip(tmp_path / "t.ivbundle", bundle_entries(tmp_path, files=files))
    bundle = open_bundle(path, cache, BundleLimits(thumbnail_bytes=2000))
    try:
        assert bundle.store.ready_thumbnail(PHOTO_SHA, 256) is None
        assert bundle.store.local_path("site/a.jpg").read_bytes() == PHOTO
        assert extracted(cache) == sorted([DATABASE_NAME, MEDIA_ENTRY.split("/")[1]])
    finally:
        asyncio.run(bundle.close())


def test_the_default_limits() -> None:
    limits = BundleLimits()
    assert limits.media_bytes == DEFAULT_MAX_FILE_BYTES, "what the decoder could read at all"
    assert (limits.database_bytes, limits.thumbnail_bytes) == (512 * MIB, 2 * MIB)
    assert (limits.expansion_bytes, limits.cache_bytes) == (512 * MIB, 2048 * MIB)
