"""Offline bundles built by hand, then damaged: every bad file is a clear error, never a crash,
and nothing is ever written outside the cache folder or into the bundle."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from db.errors import KnownError
from db.loader import MediaBatchLoader
from db.media import _MEDIA_COLUMNS, SQLITE_BATCH_STATEMENT
from db.metrics import QueryMetrics
from db.models import ChecklistItem, Inspection, Media
from db.offline import (
    DATABASE_NAME,
    FORMAT_VERSION,
    MANIFEST_NAME,
    TABLE_COLUMNS,
    BundleArchive,
    BundleCorruptError,
    BundleError,
    BundleFormatError,
    BundleUnsafeError,
    Manifest,
    OfflineBundle,
    open_bundle,
)
from db.performance import BATCH_QUERY_SQL
from db.queries import list_inspections
from db.storage import MediaDamaged, MediaMissing, StorageError
from db.storage.base import Problem
from tests.unit.offline.bundles import (
    CAPTURED,
    MEDIA_ENTRY,
    PHOTO,
    bundle_entries,
    database_bytes,
    extracted,
    manifest_for,
    write_zip,
)
from viewer.thumbnails import ThumbnailRequest
from viewer.thumbnails.decode import ErrorKind, ThumbnailError, error_for_storage


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def _item(bundle: OfflineBundle, media_id: int) -> Any:
    async def load() -> Any:
        loader = MediaBatchLoader(bundle.engine, QueryMetrics())
        return next(m for m in (await loader.load_media(7)).media.all_media() if m.id == media_id)

    return run(load())


# --- the good case ---------------------------------------------------------------------------


def test_handmade_bundle_loads_with_the_app_loader_in_one_statement_tz_aware(
    good_bundle: Path, cache: Path
) -> None:
    bundle = open_bundle(good_bundle, cache)

    async def scenario() -> tuple[Any, Any, Any, QueryMetrics]:
        metrics = QueryMetrics()
        metrics.instrument(bundle.engine.sync_engine)
        loader = MediaBatchLoader(bundle.engine, metrics)
        result = await loader.load_media(7)
        checklist = await loader.load_checklist(7)
        async with bundle.engine.connect() as conn:
            page = await list_inspections(conn)
        await bundle.close()
        return result, checklist, page, metrics

    result, checklist, page, metrics = run(scenario())
    assert (result.statements, result.strategy) == (1, "batch")
    assert metrics.last("load_checklist").statement_count == 1  # type: ignore[union-attr]
    media = result.media.all_media()
    assert [m.id for m in media] == [701, 702]
    assert media[0].captured_at == CAPTURED + timedelta(minutes=1)
    assert media[0].captured_at.utcoffset() == timedelta(0)
    assert [(e.id, e.media_count) for e in checklist] == [(71, 2), (72, 0)]
    assert [r.reference_code for r in page.rows] == ["INS-T-1"]
    assert page.rows[0].completed_at == datetime(2026, 4, 12, 12, 0, tzinfo=UTC)


def test_photo_is_extracted_and_checked_on_first_read_only(good_bundle: Path, cache: Path) -> None:
    bundle = open_bundle(good_bundle, cache)
    try:
        assert extracted(cache) == [DATABASE_NAME], "only the database is extracted on open"
        path = bundle.store.local_path(_item(bundle, 701).storage_key)
        assert path.read_bytes() == PHOTO
        assert path.is_relative_to(bundle.archive.cache_dir)
        with pytest.raises(MediaMissing, match=r"missing\.jpg was not taken offline"):
            bundle.store.local_path(_item(bundle, 702).storage_key)
    finally:
        run(bundle.close())


def test_a_tampered_cached_copy_is_replaced_by_a_checked_one(
    good_bundle: Path, cache: Path
) -> None:
    with BundleArchive(good_bundle, cache) as archive:
        path = archive.extract(MEDIA_ENTRY)
    path.write_bytes(b"not the photo")
    with BundleArchive(good_bundle, cache) as archive:
        assert archive.extract(MEDIA_ENTRY).read_bytes() == PHOTO


def test_opening_and_reading_leave_the_bundle_file_untouched(
    good_bundle: Path, cache: Path
) -> None:
    before = (good_bundle.read_bytes(), good_bundle.stat().st_mtime_ns)
    bundle = open_bundle(good_bundle, cache)
    bundle.store.local_path(_item(bundle, 701).storage_key)
    run(bundle.close())
    assert (good_bundle.read_bytes(), good_bundle.stat().st_mtime_ns) == before
    assert {p.name for p in good_bundle.parent.iterdir()} == {"good.ivbundle", "cache", "build"}


def test_a_newer_app_with_the_same_format_version_still_opens(tmp_path: Path, cache: Path) -> None:
    def newer(doc: dict[str, Any]) -> None:
        doc["app_version"] = "7.3.0"

    path = write_zip(tmp_path / "b.ivbundle", bundle_entries(tmp_path, manifest=newer))
    with BundleArchive(path, cache) as archive:
        assert archive.manifest.app_version == "7.3.0"


# --- truncated, corrupt, not a bundle ------------------------------------------------------------


@pytest.mark.parametrize("keep", [0.5, 0.9, -22, 100])
def test_truncated_bundle_is_a_clear_error(good_bundle: Path, cache: Path, keep: float) -> None:
    data = good_bundle.read_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    good_bundle.write_bytes(data[:cut])
    with pytest.raises(BundleCorruptError, match="truncated or damaged"):
        open_bundle(good_bundle, cache)


@pytest.mark.parametrize("content", [b"", b"hello, not a zip\n" * 10])
def test_a_file_that_is_not_a_zip_is_not_a_bundle(
    tmp_path: Path, cache: Path, content: bytes
) -> None:
    path = tmp_path / "x.ivbundle"
    path.write_bytes(content)
    with pytest.raises(BundleFormatError, match="not an Inspection Viewer offline bundle"):
        open_bundle(path, cache)


def test_missing_bundle_file_and_folder_are_clear_errors(tmp_path: Path, cache: Path) -> None:
    with pytest.raises(BundleError, match="no bundle at"):
        open_bundle(tmp_path / "nowhere.ivbundle", cache)
    with pytest.raises(BundleError, match="is a folder"):
        open_bundle(tmp_path, cache)


def _flip_inside(path: Path, needle: bytes) -> None:
    data = bytearray(path.read_bytes())
    at = data.index(needle) + len(needle) // 2
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def test_damaged_photo_bytes_are_refused_on_first_read(good_bundle: Path, cache: Path) -> None:
    _flip_inside(good_bundle, PHOTO[100:200])  # the zip's CRC no longer matches
    bundle = open_bundle(good_bundle, cache)  # photos are checked lazily: opening still works
    try:
        with pytest.raises(MediaDamaged, match="damaged"):
            bundle.store.local_path(_item(bundle, 701).storage_key)
        leftovers = extracted(bundle.archive.cache_dir)
        assert leftovers == [DATABASE_NAME], "no half or bad copy is kept"
    finally:
        run(bundle.close())


def test_a_photo_swapped_with_a_consistent_zip_is_refused_by_its_sha256(
    tmp_path: Path, cache: Path
) -> None:
    entries = bundle_entries(tmp_path)
    swapped = bytes(reversed(PHOTO))  # same size, valid CRC (zipfile computes it), other bytes
    path = write_zip(
        tmp_path / "s.ivbundle",
        [(n, swapped if n == MEDIA_ENTRY else d) for n, d in entries],
    )
    bundle = open_bundle(path, cache)
    try:
        with pytest.raises(
            MediaDamaged, match=r"^Photo a\.jpg is damaged: it does not match its checksum"
        ) as caught:
            bundle.store.local_path(_item(bundle, 701).storage_key)
        assert caught.value.problem is Problem.DAMAGED
    finally:
        run(bundle.close())


@pytest.mark.parametrize(
    ("reason", "kind", "says"),
    [
        ("checksum_mismatch", ErrorKind.CORRUPT, "Photo missing.jpg is damaged and was not"),
        ("empty", ErrorKind.CORRUPT, "Photo missing.jpg is damaged and was not"),
        ("missing", ErrorKind.MISSING, "Photo missing.jpg was not taken offline"),
        ("unreadable", ErrorKind.MISSING, "Photo missing.jpg was not taken offline"),
    ],
)
def test_a_photo_left_out_at_export_is_shown_as_what_was_wrong_with_it(
    tmp_path: Path, cache: Path, reason: str, kind: ErrorKind, says: str
) -> None:
    """A photo whose bytes failed their checksum at export is damaged, not "File missing"."""

    def left_out(doc: dict[str, Any]) -> None:
        doc["unavailable"][0].update(reason=reason, detail="what the export saw")

    path = write_zip(tmp_path / "u.ivbundle", bundle_entries(tmp_path, manifest=left_out))
    bundle = open_bundle(path, cache)
    try:
        with pytest.raises(StorageError) as caught:
            bundle.store.local_path("site/missing.jpg")
    finally:
        run(bundle.close())
    shown = error_for_storage(caught.value)
    assert shown.kind is kind
    assert shown.reason.startswith(says) and shown.reason.endswith(": what the export saw")


def test_a_photo_that_fails_its_checksum_in_the_bundle_is_shown_as_damaged(
    tmp_path: Path, cache: Path
) -> None:
    entries = bundle_entries(tmp_path)
    swapped = bytes(reversed(PHOTO))
    path = write_zip(
        tmp_path / "s.ivbundle", [(n, swapped if n == MEDIA_ENTRY else d) for n, d in entries]
    )
    bundle = open_bundle(path, cache)
    try:
        request = ThumbnailRequest(701, bundle.store, "site/a.jpg", size_px=1024)
        with pytest.raises(ThumbnailError) as caught:
            request.source_file()
    finally:
        run(bundle.close())
    assert caught.value.kind is ErrorKind.CORRUPT
    assert caught.value.reason == (
        "Photo a.jpg is damaged: it does not match its checksum (SHA-256) in s.ivbundle"
    )


def test_a_damaged_database_is_refused_on_open(tmp_path: Path, cache: Path) -> None:
    entries = bundle_entries(tmp_path)
    path = write_zip(
        tmp_path / "d.ivbundle",
        [(n, d[:-1] + b"\x01" if n == DATABASE_NAME else d) for n, d in entries],
    )
    with pytest.raises(BundleCorruptError, match=f"{DATABASE_NAME} does not match"):
        open_bundle(path, cache)


def _bundle_with_database(tmp_path: Path, database: bytes) -> Path:
    """A bundle whose manifest lists `database` with its right checksum."""
    entries = bundle_entries(tmp_path, files={DATABASE_NAME: database, MEDIA_ENTRY: PHOTO})
    return write_zip(tmp_path / "schema.ivbundle", entries)


@pytest.mark.parametrize(
    "extra_sql",
    [
        "CREATE TRIGGER t AFTER INSERT ON media BEGIN DELETE FROM media; END",
        "CREATE VIEW v AS SELECT * FROM media",
        "ALTER TABLE media ADD COLUMN extra TEXT",
        "DROP INDEX ix_media_checklist_item",
        "PRAGMA user_version = 2",
    ],
)
def test_a_database_with_another_schema_is_refused_before_any_query(
    tmp_path: Path, cache: Path, extra_sql: str
) -> None:
    path = tmp_path / "build" / DATABASE_NAME
    database_bytes(tmp_path)
    con = sqlite3.connect(path)
    con.execute(extra_sql)
    con.commit()
    con.close()
    bundle = _bundle_with_database(tmp_path, path.read_bytes())
    with pytest.raises(BundleCorruptError, match="does not have the tables of bundle format"):
        open_bundle(bundle, cache)


def test_a_database_that_is_not_sqlite_is_refused(tmp_path: Path, cache: Path) -> None:
    bundle = _bundle_with_database(tmp_path, b"not a database at all\n" * 200)
    with pytest.raises(BundleCorruptError, match="its database cannot be read"):
        open_bundle(bundle, cache)


def test_a_broken_deflate_stream_is_a_clear_error(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "z.ivbundle"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in bundle_entries(tmp_path):
            zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
        deflated = zf.getinfo(DATABASE_NAME)
    raw = bytearray(path.read_bytes())
    start = deflated.header_offset + 30 + len(DATABASE_NAME)
    raw[start + 40 : start + 200] = bytes(160)  # wreck the compressed stream itself
    path.write_bytes(bytes(raw))
    with pytest.raises(BundleCorruptError, match="damaged"):
        open_bundle(path, cache)


def test_a_maliciously_nested_manifest_is_a_clear_error(tmp_path: Path, cache: Path) -> None:
    entries = [(n, d) for n, d in bundle_entries(tmp_path) if n != MANIFEST_NAME]
    entries.append((MANIFEST_NAME, b"[" * 200_000 + b"]" * 200_000))
    with pytest.raises(BundleCorruptError, match="not valid JSON"):
        open_bundle(write_zip(tmp_path / "j.ivbundle", entries), cache)


def test_a_damaged_manifest_is_a_clear_error(good_bundle: Path, cache: Path) -> None:
    _flip_inside(good_bundle, b'"format_version"')
    with pytest.raises(BundleCorruptError, match="damaged"):
        open_bundle(good_bundle, cache)


def test_an_entry_the_manifest_does_not_list_is_refused(tmp_path: Path, cache: Path) -> None:
    entries = [*bundle_entries(tmp_path), ("notes.txt", b"hello")]
    with pytest.raises(BundleCorruptError, match=r"notes\.txt"):
        open_bundle(write_zip(tmp_path / "e.ivbundle", entries), cache)


def test_a_listed_file_missing_from_the_archive_is_refused(tmp_path: Path, cache: Path) -> None:
    entries = [(n, d) for n, d in bundle_entries(tmp_path) if n != MEDIA_ENTRY]
    with pytest.raises(BundleCorruptError, match="incomplete"):
        open_bundle(write_zip(tmp_path / "m.ivbundle", entries), cache)


# --- versions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, None, True])
def test_unknown_format_version_is_a_clear_error(
    tmp_path: Path, cache: Path, version: object
) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["format_version"] = version

    path = write_zip(tmp_path / "v.ivbundle", bundle_entries(tmp_path, manifest=edit))
    with pytest.raises(BundleFormatError, match="unknown bundle format version") as caught:
        open_bundle(path, cache)
    assert isinstance(caught.value, KnownError)


def test_another_format_or_no_manifest_is_not_a_bundle(tmp_path: Path, cache: Path) -> None:
    def other(doc: dict[str, Any]) -> None:
        doc["format"] = "someone-elses-archive"

    path = write_zip(tmp_path / "o.ivbundle", bundle_entries(tmp_path, manifest=other))
    with pytest.raises(BundleFormatError, match="not an Inspection Viewer offline bundle"):
        open_bundle(path, cache)
    entries = [(n, d) for n, d in bundle_entries(tmp_path) if n != MANIFEST_NAME]
    with pytest.raises(BundleFormatError, match="no manifest"):
        open_bundle(write_zip(tmp_path / "n.ivbundle", entries), cache)


def test_a_bundle_from_a_newer_app_says_which_and_to_update(tmp_path: Path, cache: Path) -> None:
    def newer(doc: dict[str, Any]) -> None:
        doc["format_version"] = FORMAT_VERSION + 1
        doc["app_version"] = "9.1.0"
        doc["files"]["thumbnails.db"] = {"sha256": "0" * 64, "size": 1}  # unknown to us

    path = write_zip(tmp_path / "new.ivbundle", bundle_entries(tmp_path, manifest=newer))
    with pytest.raises(BundleFormatError) as caught:
        open_bundle(path, cache)
    message = str(caught.value)
    assert "newer Inspection Viewer (9.1.0" in message
    assert "update Inspection Viewer" in message
    assert not cache.exists(), "nothing is extracted from a bundle that is refused"


# --- path traversal ------------------------------------------------------------------------------


def _symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    "entry",
    [
        "../evil.jpg",
        "media/../../evil.jpg",
        "/tmp/evil.jpg",
        "C:/evil.jpg",
        "c:evil.jpg",
        "media\\..\\..\\evil.jpg",
        "media//evil.jpg",
        "./evil.jpg",
        _symlink(f"media/{'e' * 64}.jpg"),
    ],
    ids=lambda e: e if isinstance(e, str) else "symlink",
)
def test_entries_that_could_escape_are_refused_and_nothing_is_written(
    tmp_path: Path, cache: Path, entry: str | zipfile.ZipInfo
) -> None:
    entries = [*bundle_entries(tmp_path), (entry, b"/etc/passwd")]
    path = write_zip(tmp_path / "t.ivbundle", entries)
    with pytest.raises(BundleUnsafeError, match="was refused"):
        open_bundle(path, cache)
    assert not cache.exists()
    assert not [p for p in tmp_path.rglob("*evil*")]


def test_the_refusal_of_a_symbolic_link_reads_as_a_sentence(tmp_path: Path, cache: Path) -> None:
    name = f"media/{'e' * 64}.jpg"
    entries = [*bundle_entries(tmp_path), (_symlink(name), b"/etc/passwd")]
    with pytest.raises(BundleUnsafeError) as caught:
        open_bundle(write_zip(tmp_path / "l.ivbundle", entries), cache)
    assert str(caught.value) == (
        f"l.ivbundle was refused: its entry '{name}' could write outside its folder "
        "(it is a symbolic link)"
    )


def test_a_manifest_naming_an_escaping_file_is_refused(tmp_path: Path, cache: Path) -> None:
    def escape(doc: dict[str, Any]) -> None:
        doc["media"]["site/a.jpg"] = "../../evil.jpg"

    path = write_zip(tmp_path / "m.ivbundle", bundle_entries(tmp_path, manifest=escape))
    with pytest.raises(BundleUnsafeError) as caught:
        open_bundle(path, cache)
    assert str(caught.value) == (
        "m.ivbundle was refused: the file '../../evil.jpg' in its manifest could write outside "
        "its folder (its name has an empty, '.' or '..' path component)"
    )


def test_a_duplicated_entry_name_is_refused(tmp_path: Path, cache: Path) -> None:
    entries = [*bundle_entries(tmp_path), (MEDIA_ENTRY, b"second copy")]
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = write_zip(tmp_path / "dup.ivbundle", entries)
    with pytest.raises(BundleUnsafeError, match="twice"):
        open_bundle(path, cache)


# --- the format stays in step with the schema and the PostgreSQL query --------------------------


def test_bundle_tables_have_the_models_columns() -> None:
    for model in (Inspection, ChecklistItem, Media):
        table = model.__table__
        assert TABLE_COLUMNS[table.name] == tuple(c.name for c in table.columns)


def test_sqlite_batch_statement_is_the_batch_query_with_media_item_columns() -> None:
    sql = str(SQLITE_BATCH_STATEMENT.compile())
    select_list, _, body = sql.partition("\n  FROM ")
    names = [c.split(" AS ")[-1].split(".")[-1].strip() for c in select_list[7:].split(",")]
    assert names == [c.strip() for c in _MEDIA_COLUMNS.split(",")]
    assert "\n  FROM " + body == BATCH_QUERY_SQL[BATCH_QUERY_SQL.index("\n  FROM ") :]


def test_manifest_round_trips_through_json() -> None:
    manifest = manifest_for({DATABASE_NAME: b"x", MEDIA_ENTRY: PHOTO})
    again = Manifest.from_json(manifest.to_json(), "m.ivbundle")
    assert again == manifest
    assert again.unavailable_media(702) == manifest.unavailable[0]
    assert replace(again, source="other") != manifest
