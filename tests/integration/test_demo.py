"""The demo dataset: what the default one contains, that it is reproducible, and when it refuses."""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image, UnidentifiedImageError
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from db.demo import (
    BAD_MEDIA_INSPECTION_REFERENCE,
    BAD_MEDIA_KEYS,
    EXIF_ORIENTATION,
    LARGE_INSPECTION_REFERENCE,
    MAX_PHOTOS_PER_ITEM,
    SECTIONS,
    DemoDataExists,
    DemoSpec,
    InvalidDemoSpec,
    clear_data,
    database_is_empty,
    generate_demo,
)
from db.engine import make_engine
from db.migrate import upgrade
from db.performance import validate_optimization
from db.storage import (
    LocalStore,
    MediaMissing,
    MediaStore,
    ObjectInfo,
    StoreReadOnly,
    check_key,
)

if TYPE_CHECKING:
    from tests.integration.conftest import DemoDatabase

# Small but within the spec's minimums, with a 4-photo pool: fast enough to generate repeatedly.
SMALL = DemoSpec(
    inspections=6, large_items=200, large_media=1000, full_size_photos=1, small_photos=3
)
TABLES = ("inspections", "checklist_items", "media")
BAD_KEYS = set(BAD_MEDIA_KEYS.values())


def _rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def _scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def _dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    return {t: [tuple(r) for r in _rows(engine, f"SELECT * FROM {t} ORDER BY id")] for t in TABLES}


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def new_database(create_database: Callable[[str], URL]) -> Iterator[Callable[[], Engine]]:
    """Factory of empty databases migrated to head, disposed of at teardown."""
    engines: list[Engine] = []

    def make() -> Engine:
        engine = make_engine(create_database("demo_t"))
        upgrade(engine)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


# --- The default dataset ------------------------------------------------------------------------


def test_summary_matches_the_tables(demo_db: DemoDatabase) -> None:
    s = demo_db.summary
    engine = demo_db.engine
    assert s.inspections == _scalar(engine, "SELECT count(*) FROM inspections") >= 40
    assert s.checklist_items == _scalar(engine, "SELECT count(*) FROM checklist_items")
    assert s.media == _scalar(engine, "SELECT count(*) FROM media")
    assert s.soft_deleted == _scalar(
        engine, "SELECT count(*) FROM media WHERE deleted_at IS NOT NULL"
    )
    assert s.bad_media == len(BAD_MEDIA_KEYS)
    assert s.large_reference == LARGE_INSPECTION_REFERENCE
    distinct = _scalar(
        engine,
        "SELECT count(DISTINCT storage_key) FROM media WHERE storage_key NOT LIKE 'demo/bad/%'",
    )
    assert s.image_files == distinct
    on_disk = sum(p.stat().st_size for p in demo_db.media_dir.rglob("*.jpg"))
    assert s.bytes_on_disk == on_disk
    assert on_disk < 150_000_000
    assert 0 < s.seconds < 60


def test_large_inspection_has_hundreds_of_items_and_a_thousand_photos(
    demo_db: DemoDatabase,
) -> None:
    (items, live, deleted) = _rows(
        demo_db.engine,
        "SELECT (SELECT count(*) FROM checklist_items c WHERE c.inspection_id = i.id),"
        " (SELECT count(*) FROM media m WHERE m.inspection_id = i.id AND m.deleted_at IS NULL),"
        " (SELECT count(*) FROM media m WHERE m.inspection_id = i.id AND m.deleted_at IS NOT NULL)"
        " FROM inspections i WHERE reference_code = :ref",
        ref=LARGE_INSPECTION_REFERENCE,
    )[0]
    assert items == DemoSpec().large_items >= 200
    assert live == DemoSpec().large_media >= 1000
    assert deleted > 0


def test_inspections_look_real(demo_db: DemoDatabase) -> None:
    rows = _rows(
        demo_db.engine,
        "SELECT reference_code, site_name, address, inspector_name, status, scheduled_at,"
        " completed_at, created_at, updated_at FROM inspections ORDER BY id",
    )
    assert all(re.fullmatch(r"INS-20\d\d-\d{4}", r.reference_code) for r in rows)
    assert {r.status for r in rows} == {"draft", "in_progress", "completed", "archived"}
    for r in rows:
        assert (r.completed_at is not None) == (r.status in ("completed", "archived"))
        assert r.created_at < r.scheduled_at
        assert r.updated_at >= r.created_at
        if r.completed_at is not None:
            assert r.completed_at > r.scheduled_at
        assert re.search(r"\d+ .+, .+, [A-Z]{2} \d{5}$", r.address)
    scheduled = [r.scheduled_at for r in rows]
    assert 400 <= (max(scheduled) - min(scheduled)).days <= 600  # about 18 months
    assert len({r.inspector_name for r in rows}) > 3
    assert len({r.site_name for r in rows}) == len(rows)


def test_checklists_are_sectioned_positioned_and_annotated(demo_db: DemoDatabase) -> None:
    rows = _rows(
        demo_db.engine,
        "SELECT i.reference_code, i.status, c.section, c.position, c.title, c.result, c.notes"
        " FROM checklist_items c JOIN inspections i ON i.id = c.inspection_id"
        " ORDER BY c.inspection_id, c.position",
    )
    by_inspection: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        by_inspection[r.reference_code].append(r)
    for ref, items in by_inspection.items():
        assert [r.position for r in items] == list(range(1, len(items) + 1))
        order = [SECTIONS.index(r.section) for r in items]  # raises for an unknown section
        assert order == sorted(order), "items are grouped in section order"
        if ref != LARGE_INSPECTION_REFERENCE:
            assert 15 <= len(items) <= 45
    assert all(r.notes for r in rows if r.result == "fail")
    results = Counter(r.result for r in rows)
    assert results["pass"] > results["fail"] > 0
    assert results["na"] > 0
    pending = Counter(r.status for r in rows if r.result == "pending")
    assert set(pending) <= {"draft", "in_progress"}
    assert any(r.notes for r in rows if r.result == "pass")
    assert any(r.notes is None for r in rows)


def test_photo_counts_and_capture_times(demo_db: DemoDatabase) -> None:
    per_item = _rows(
        demo_db.engine,
        "SELECT i.reference_code, c.id, count(m.id) AS n FROM checklist_items c"
        " JOIN inspections i ON i.id = c.inspection_id"
        " LEFT JOIN media m ON m.checklist_item_id = c.id GROUP BY i.reference_code, c.id",
    )
    typical = [r.n for r in per_item if r.reference_code != LARGE_INSPECTION_REFERENCE]
    assert max(typical) == MAX_PHOTOS_PER_ITEM == 8
    assert min(typical) == 0
    media = _rows(
        demo_db.engine,
        "SELECT m.inspection_id, m.captured_at, m.created_at, i.scheduled_at, m.caption,"
        " m.mime_type FROM media m JOIN inspections i ON i.id = m.inspection_id ORDER BY m.id",
    )
    last: dict[int, datetime] = {}
    for m in media:
        assert m.captured_at.astimezone(UTC).date() == m.scheduled_at.astimezone(UTC).date()
        assert m.captured_at > last.get(m.inspection_id, m.scheduled_at)
        assert m.created_at >= m.captured_at
        assert m.mime_type == "image/jpeg"
        last[m.inspection_id] = m.captured_at
    assert any(m.caption is None for m in media)
    assert sum(m.caption is not None for m in media) > 0.8 * len(media)


def test_soft_deleted_photos_in_several_inspections(demo_db: DemoDatabase) -> None:
    rows = _rows(
        demo_db.engine,
        "SELECT inspection_id, captured_at, created_at, deleted_at, storage_key FROM media"
        " WHERE deleted_at IS NOT NULL",
    )
    assert len({r.inspection_id for r in rows}) >= 3
    assert all(r.deleted_at > r.created_at > r.captured_at for r in rows)
    assert not {r.storage_key for r in rows} & BAD_KEYS


def test_each_bad_media_kind_exists_and_is_broken_as_claimed(demo_db: DemoDatabase) -> None:
    rows = _rows(
        demo_db.engine,
        "SELECT m.storage_key, m.deleted_at, i.reference_code, m.byte_size FROM media m"
        " JOIN inspections i ON i.id = m.inspection_id WHERE m.storage_key LIKE 'demo/bad/%'",
    )
    assert sorted(r.storage_key for r in rows) == sorted(BAD_KEYS)
    assert {r.reference_code for r in rows} == {BAD_MEDIA_INSPECTION_REFERENCE}
    assert BAD_MEDIA_INSPECTION_REFERENCE != LARGE_INSPECTION_REFERENCE
    assert all(r.deleted_at is None and r.byte_size > 0 for r in rows)

    root = demo_db.media_dir
    assert not (root / BAD_MEDIA_KEYS["missing"]).exists()
    assert (root / BAD_MEDIA_KEYS["empty"]).stat().st_size == 0
    truncated = root / BAD_MEDIA_KEYS["truncated"]
    assert truncated.read_bytes()[:3] == b"\xff\xd8\xff"  # starts like a JPEG
    with Image.open(truncated) as img, pytest.raises(OSError):
        img.load()
    not_image = root / BAD_MEDIA_KEYS["not_image"]
    assert not_image.read_text(encoding="utf-8").strip()
    with pytest.raises(UnidentifiedImageError):
        Image.open(not_image)


def test_every_good_media_row_matches_its_file(demo_db: DemoDatabase) -> None:
    rows = _rows(
        demo_db.engine,
        "SELECT DISTINCT storage_key, sha256, byte_size, width, height FROM media"
        " WHERE storage_key NOT LIKE 'demo/bad/%'",
    )
    keys = Counter(r.storage_key for r in rows)
    assert max(keys.values()) == 1, "a file is described one way only"
    uses = Counter(r.storage_key for r in _rows(demo_db.engine, "SELECT storage_key FROM media"))
    assert len(rows) <= 60 and max(uses.values()) > 20, "a small pool shared by many rows"
    sizes: set[tuple[int, int]] = set()
    orientations: set[int | None] = set()
    for r in rows:
        assert re.fullmatch(r"demo/[0-9a-f]{2}/[0-9a-f]{64}\.jpg", r.storage_key)
        data = (demo_db.media_dir / r.storage_key).read_bytes()
        assert hashlib.sha256(data).hexdigest() == r.sha256 == r.storage_key[-68:-4]
        assert len(data) == r.byte_size
        with Image.open(demo_db.media_dir / r.storage_key) as img:
            assert img.format == "JPEG"
            assert img.size == (r.width, r.height)
            orientations.add(img.getexif().get(EXIF_ORIENTATION))
        sizes.add((r.width, r.height))
    assert (4032, 3024) in sizes and (3024, 4032) in sizes
    assert any(w * h < 3_000_000 for w, h in sizes)
    assert {3, 6, 8} <= orientations and None in orientations


def test_statistics_are_fresh_and_ids_continue(demo_db: DemoDatabase) -> None:
    for table in TABLES:  # ANALYZE reads every row of tables this small: estimates are exact
        estimate = _scalar(
            demo_db.engine, "SELECT reltuples FROM pg_class WHERE relname = :t", t=table
        )
        assert estimate == _scalar(demo_db.engine, f"SELECT count(*) FROM {table}")
    with demo_db.engine.connect() as conn, conn.begin() as trans:
        new_id = conn.execute(
            text(
                "INSERT INTO inspections (reference_code, site_name, address, inspector_name,"
                " scheduled_at) VALUES ('INS-TEST-1', 's', 'a', 'i', now()) RETURNING id"
            )
        ).scalar_one()
        assert new_id == demo_db.summary.inspections + 1
        trans.rollback()


def test_validation_right_after_the_demo_passes_its_statistics_checks(
    new_database: Callable[[], Engine], tmp_path: Path
) -> None:
    # A backend reports its row counts at most once a second, or when it exits: the demo's
    # rows were reported after its ANALYZE (when the command closed its connection), as
    # changes since, and `db validate` right after `demo` asked for another ANALYZE. The
    # progress callback makes the inserting connection (the pool's only one) report just
    # before the inserts, so theirs cannot go out at commit unless forced.
    checker = new_database()
    engine = make_engine(checker.url, pool_size=1, max_overflow=0)

    def report_now(step: str, done: int, total: int) -> None:
        if step == "Planning inspections" and done == total:
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_stat_force_next_flush()"))
                conn.commit()

    generate_demo(engine, LocalStore(tmp_path), progress=report_now)
    backend = _scalar(engine, "SELECT pg_backend_pid()")
    engine.dispose()
    _wait_for_exit(checker, backend)

    with checker.connect() as conn:
        checks = [c for c in validate_optimization(conn) if c.check_name.startswith("statistics")]
    assert {c.check_name: c.detail for c in checks if not c.passed} == {}
    assert len(checks) == len(TABLES)


def _wait_for_exit(engine: Engine, pid: int, timeout_s: float = 30.0) -> None:
    """Until the server backend `pid` has exited (and so reported what it had pending)."""
    deadline = time.monotonic() + timeout_s
    while _scalar(engine, "SELECT count(*) FROM pg_stat_activity WHERE pid = :p", p=pid):
        assert time.monotonic() < deadline, f"backend {pid} still there after {timeout_s} s"
        time.sleep(0.01)


# --- Determinism, refusal, reset ----------------------------------------------------------------


def test_same_seed_gives_identical_rows_and_files_another_seed_does_not(
    new_database: Callable[[], Engine], tmp_path: Path
) -> None:
    calls: list[tuple[str, int, int]] = []
    first, second, other = new_database(), new_database(), new_database()
    generate_demo(first, LocalStore(tmp_path / "a"), SMALL, progress=lambda *c: calls.append(c))
    generate_demo(second, LocalStore(tmp_path / "b"), SMALL)
    generate_demo(other, LocalStore(tmp_path / "c"), replace(SMALL, seed=SMALL.seed + 1))

    assert _dump(first) == _dump(second)
    files_a = _files(tmp_path / "a")
    assert files_a == _files(tmp_path / "b")
    assert sum(k.endswith(".jpg") for k in files_a) == 4 + 3  # the pool, then the bad files

    dump_other = _dump(other)
    for table in TABLES:
        assert dump_other[table] != _dump(first)[table]
    files_c = _files(tmp_path / "c")
    assert not {k for k in files_a if "/bad/" not in k} & set(files_c)

    labels = [c[0] for c in calls]
    assert {"Generating photos", "Writing inspections", "Writing photo records"} <= set(labels)
    assert all(0 <= done <= total for _, done, total in calls)
    assert len(calls) < 100, "progress per chunk, not per row"
    finals = {label: (done, total) for label, done, total in calls}
    assert all(done == total for done, total in finals.values())


def test_non_empty_database_is_refused_until_cleared(
    new_database: Callable[[], Engine], tmp_path: Path
) -> None:
    engine = new_database()
    assert database_is_empty(engine)
    generate_demo(engine, LocalStore(tmp_path), SMALL)
    assert not database_is_empty(engine)
    before = _dump(engine)
    photos = {p: p.stat() for p in tmp_path.glob("demo/??/*.jpg")}

    with pytest.raises(DemoDataExists, match="already holds inspections") as caught:
        generate_demo(engine, LocalStore(tmp_path), SMALL)
    assert isinstance(caught.value, ValueError)
    assert _dump(engine) == before

    clear_data(engine)
    assert database_is_empty(engine)
    assert _scalar(engine, "SELECT count(*) FROM media") == 0
    generate_demo(engine, LocalStore(tmp_path), SMALL)
    assert _dump(engine) == before, "ids restart at 1 after clear_data"
    for path, stat in photos.items():  # reused, not encoded again
        assert (path.stat().st_ino, path.stat().st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)


def test_an_exception_from_progress_cancels_and_leaves_the_database_empty(
    new_database: Callable[[], Engine], tmp_path: Path
) -> None:
    class Cancelled(Exception):
        pass

    def cancel_at(phase: str) -> Callable[[str, int, int], None]:
        def progress(label: str, done: int, total: int) -> None:
            if label == phase and done > 0:
                raise Cancelled

        return progress

    engine = new_database()
    for phase in ("Generating photos", "Writing photo records"):
        with pytest.raises(Cancelled):
            generate_demo(engine, LocalStore(tmp_path), SMALL, progress=cancel_at(phase))
        assert database_is_empty(engine)
        assert _scalar(engine, "SELECT count(*) FROM checklist_items") == 0
    generate_demo(engine, LocalStore(tmp_path), SMALL)  # nothing left half-written on disk either
    assert not list(tmp_path.rglob("*.part"))


# --- The media store seam -----------------------------------------------------------------------


class MemoryStore(MediaStore):
    """A store that is not a folder (no local files): the demo must need nothing more."""

    display = "memory"

    def __init__(self, writable: bool = True) -> None:
        self.writable = writable
        self.objects: dict[str, bytes] = {}
        self.writes: list[str] = []

    def stat(self, key: str) -> ObjectInfo:
        return ObjectInfo(key, len(self._get(key)), 0.0)

    def read(self, key: str, max_bytes: int | None = None) -> bytes:
        return self._get(key)

    def read_range(self, key: str, start: int, length: int) -> bytes:
        return self._get(key)[start : start + length]

    def local_path(self, key: str) -> Path:
        raise NotImplementedError

    def write(self, key: str, data: bytes) -> None:
        if not self.writable:
            super().write(key, data)
        check_key(key)
        self.objects[key] = data
        self.writes.append(key)

    def delete(self, key: str) -> None:
        if not self.writable:
            super().delete(key)
        self.objects.pop(key, None)

    def _get(self, key: str) -> bytes:
        try:
            return self.objects[key]
        except KeyError:
            raise MediaMissing(key, "Not in memory") from None


def test_photos_go_through_any_media_store_and_are_reused_from_it(
    new_database: Callable[[], Engine], tmp_path: Path
) -> None:
    store = MemoryStore()
    engine = new_database()
    generate_demo(engine, store, SMALL)
    local = tmp_path / "local"
    generate_demo(new_database(), LocalStore(local), SMALL)
    assert store.objects == _files(local), "the same keys and bytes as in a folder"
    assert BAD_MEDIA_KEYS["missing"] not in store.objects
    assert store.objects[BAD_MEDIA_KEYS["empty"]] == b""

    store.writes.clear()
    clear_data(engine)
    generate_demo(engine, store, SMALL)
    assert store.writes == [], "an intact pool and intact bad files are not written again"


def test_a_read_only_store_is_refused_before_anything_is_written(
    new_database: Callable[[], Engine],
) -> None:
    engine = new_database()
    with pytest.raises(StoreReadOnly, match="memory"):
        generate_demo(engine, MemoryStore(writable=False), SMALL)
    assert database_is_empty(engine)


def test_spec_below_the_minimums_is_rejected() -> None:
    with pytest.raises(ValueError, match="200"):
        DemoSpec(large_items=150)
    with pytest.raises(ValueError, match="1,000"):
        DemoSpec(large_media=999)
    with pytest.raises(InvalidDemoSpec, match="at least 2"):
        DemoSpec(inspections=1)  # a ConfigError: the CLI shows it as a one-line message
