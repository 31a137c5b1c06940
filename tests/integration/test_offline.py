"""Offline bundles from the real demo: export from PostgreSQL, open on SQLite with the app's own
loader, byte-identical photos, no server and no network on open, atomic and cancellable export."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from db.config import AppPaths
from db.demo import BAD_MEDIA_INSPECTION_REFERENCE, BAD_MEDIA_KEYS, LARGE_INSPECTION_REFERENCE
from db.embedded import EmbeddedServer
from db.engine import make_async_engine
from db.errors import KnownError
from db.loader import MediaBatchLoader
from db.metrics import QueryMetrics
from db.offline import (
    DATABASE_NAME,
    PHASE_MEDIA,
    ExportCancelled,
    ExportSummary,
    OfflineBundle,
    export_bundle,
    open_bundle,
    sha256_file,
)
from db.queries import list_inspections
from db.records import ChecklistEntry, InspectionMedia, InspectionSummary
from db.storage import MediaDamaged, MediaMissing, MediaStore, StorageError, open_store
from viewer.thumbnails.export import png_thumbnail

REPO = Path(__file__).resolve().parents[2]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def source_store(demo_db: Any) -> MediaStore:
    """The demo's photos as the app reaches them: the store its media URL names."""
    return open_store(demo_db.media_dir.as_uri())


def small_reference(engine: Engine) -> str:
    """A typical inspection with photos (neither the large nor the bad-media one)."""
    with engine.connect() as conn:
        return str(
            conn.execute(
                text(
                    "SELECT i.reference_code FROM inspections i"
                    " WHERE i.reference_code NOT IN (:large, :bad)"
                    " AND (SELECT count(*) FROM media m WHERE m.inspection_id = i.id"
                    "      AND m.deleted_at IS NULL) BETWEEN 5 AND 60"
                    " ORDER BY i.reference_code LIMIT 1"
                ),
                {"large": LARGE_INSPECTION_REFERENCE, "bad": BAD_MEDIA_INSPECTION_REFERENCE},
            ).scalar_one()
        )


@dataclass(frozen=True)
class Loaded:
    """What the app shows of some inspections: list rows, checklists and media."""

    rows: dict[str, InspectionSummary]
    checklists: dict[int, tuple[ChecklistEntry, ...]]
    media: dict[int, InspectionMedia]
    statements: list[int]  # per media load, as QueryMetrics counted them
    checklist_statements: list[int]


async def load_like_the_app(engine: Any, references: set[str]) -> Loaded:
    metrics = QueryMetrics()
    metrics.instrument(engine.sync_engine)
    loader = MediaBatchLoader(engine, metrics)
    async with engine.connect() as conn:
        page = await list_inspections(conn, limit=1000)
    rows = {r.reference_code: r for r in page.rows if r.reference_code in references}
    checklists, media = {}, {}
    for rec in rows.values():
        checklists[rec.id] = await loader.load_checklist(rec.id)
        media[rec.id] = (await loader.load_media(rec.id)).media
    actions = metrics.recent()
    return Loaded(
        rows,
        checklists,
        media,
        [a.statement_count for a in actions if a.kind == "load_media"],
        [a.statement_count for a in actions if a.kind == "load_checklist"],
    )


@dataclass(frozen=True)
class Exported:
    summary: ExportSummary
    references: set[str]
    cache_root: Path


@pytest.fixture(scope="module")
def exported(demo_db: Any, tmp_path_factory: pytest.TempPathFactory) -> Exported:  # type: ignore[misc]
    """The large inspection and two small ones (one of them with the demo's broken photos)."""
    folder = tmp_path_factory.mktemp("bundles")
    references = {
        LARGE_INSPECTION_REFERENCE,
        BAD_MEDIA_INSPECTION_REFERENCE,
        small_reference(demo_db.engine),
    }
    summary = export_bundle(
        demo_db.engine,
        source_store(demo_db),
        sorted(references),
        out=folder / "three.ivbundle",
        thumbnailer=png_thumbnail,
    )
    return Exported(summary, references, tmp_path_factory.mktemp("cache"))


@pytest.fixture
def bundle(exported: Exported) -> Iterator[OfflineBundle]:
    opened = open_bundle(exported.summary.path, exported.cache_root)
    yield opened
    run(opened.close())


def test_round_trip_gives_the_same_inspections_items_and_byte_identical_media(  # type: ignore[no-untyped-def]
    demo_db, exported: Exported, bundle: OfflineBundle
) -> None:
    online_engine = make_async_engine(demo_db.engine.url)

    async def online() -> Loaded:
        try:
            return await load_like_the_app(online_engine, exported.references)
        finally:
            await online_engine.dispose()

    source = run(online())
    offline = run(load_like_the_app(bundle.engine, exported.references))
    assert set(offline.rows) == exported.references
    assert offline.rows == source.rows  # timestamps included: tz-aware and equal
    assert offline.checklists == source.checklists
    assert offline.media == source.media
    sample = next(iter(offline.media.values())).all_media()[0]
    assert sample.captured_at.tzinfo is not None

    broken = set(BAD_MEDIA_KEYS.values())
    checked = 0
    for media in offline.media.values():
        for item in media.all_media():
            if item.storage_key in broken:
                continue
            path = bundle.store.local_path(item.storage_key)
            assert sha256_file(path) == item.sha256
            assert sha256_file(demo_db.media_dir / item.storage_key) == item.sha256
            checked += 1
    assert checked >= 1000
    thumbnail = bundle.store.ready_thumbnail(sample.sha256, 256)
    assert thumbnail is not None and thumbnail.read_bytes().startswith(b"\x89PNG")


def test_one_media_statement_per_inspection_on_sqlite_counted(
    exported: Exported, bundle: OfflineBundle
) -> None:
    loaded = run(load_like_the_app(bundle.engine, exported.references))
    assert loaded.statements == [1, 1, 1]
    assert loaded.checklist_statements == [1, 1, 1]


def test_unreadable_source_photos_are_listed_as_unavailable_and_the_rest_exported(  # type: ignore[no-untyped-def]
    demo_db, exported: Exported, bundle: OfflineBundle
) -> None:
    gone = {u.storage_key: u for u in exported.summary.unavailable}
    assert {k: u.reason for k, u in gone.items()} == {
        BAD_MEDIA_KEYS["missing"]: "missing",
        BAD_MEDIA_KEYS["empty"]: "empty",
        BAD_MEDIA_KEYS["truncated"]: "checksum_mismatch",
        BAD_MEDIA_KEYS["not_image"]: "checksum_mismatch",
    }
    assert {u.media_id: u for u in bundle.manifest.unavailable} == {
        u.media_id: u for u in exported.summary.unavailable
    }
    loaded = run(load_like_the_app(bundle.engine, {BAD_MEDIA_INSPECTION_REFERENCE}))
    items = next(iter(loaded.media.values())).all_media()
    bad = [m for m in items if m.storage_key in gone]
    assert len(bad) == 4, "the rows are there, so the reviewer sees a photo is missing"
    for item in bad:
        with pytest.raises(StorageError, match="was not taken offline") as caught:
            bundle.store.local_path(item.storage_key)
        # What was wrong at export is what the viewer says: missing, or damaged.
        expected = MediaMissing if gone[item.storage_key].reason == "missing" else MediaDamaged
        assert type(caught.value) is expected, item.storage_key
    good = [m for m in items if m.storage_key not in gone]
    assert good and all(
        sha256_file(bundle.store.local_path(m.storage_key)) == m.sha256 for m in good
    )


def test_large_inspection_bundle_is_at_most_its_media_plus_ten_percent(  # type: ignore[no-untyped-def]
    demo_db, tmp_path: Path
) -> None:
    summary = export_bundle(
        demo_db.engine,
        source_store(demo_db),
        [LARGE_INSPECTION_REFERENCE],
        out=tmp_path / "large.ivbundle",
        thumbnailer=png_thumbnail,
    )
    assert summary.path.stat().st_size == summary.bundle_bytes
    assert summary.media >= 1000 and summary.thumbnails == summary.media_files
    assert summary.bundle_bytes <= summary.media_bytes * 1.10
    print(
        f"\nexport of {LARGE_INSPECTION_REFERENCE}: {summary.media:,} photos in "
        f"{summary.media_files} files ({summary.media_bytes / 1e6:.1f} MB), bundle "
        f"{summary.bundle_bytes / 1e6:.1f} MB "
        f"({summary.bundle_bytes / summary.media_bytes - 1:+.1%}), {summary.seconds:.2f} s"
    )


def test_opening_and_reading_every_photo_never_modifies_the_bundle(
    exported: Exported, tmp_path: Path
) -> None:
    path = exported.summary.path
    before = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    opened = open_bundle(path, tmp_path / "cache")
    try:
        for name in opened.manifest.files:
            opened.archive.extract(name)
        run(load_like_the_app(opened.engine, exported.references))
    finally:
        run(opened.close())
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["three.ivbundle"]


def _refuse_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fault injection: any IPv4/IPv6 connect fails (and is recorded)."""
    attempts: list[Any] = []
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise OSError("network refused by the test")
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


def test_open_with_network_fault_injected_starts_no_server_and_connects_nowhere(
    exported: Exported, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = _refuse_network(monkeypatch)
    started: list[Path] = []
    monkeypatch.setattr(EmbeddedServer, "start", lambda self, **kw: started.append(self.pgdata))
    paths = AppPaths(data_dir=tmp_path / "data", media_url=(tmp_path / "no-media").as_uri())
    opened = open_bundle(exported.summary.path, paths.cache_dir)
    try:
        loaded = run(load_like_the_app(opened.engine, exported.references))
    finally:
        run(opened.close())
    assert len(loaded.media) == 3
    assert attempts == [] and started == []
    assert not paths.pgdata.exists()


_GUI_SCRIPT = """
import socket, sys
real = socket.socket.connect
def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        print("NETWORK ATTEMPT", address, file=sys.stderr)
        raise OSError("network refused by the test")
    return real(self, address)
socket.socket.connect = connect
from pathlib import Path
from db.config import resolve_paths
from viewer.app import run_offline_gui
data, bundle, shot = (Path(a) for a in sys.argv[1:4])
paths = resolve_paths(data, data / "no-media")
sys.exit(run_offline_gui(bundle, paths, shot))
"""


def _offline_gui(bundle: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The real window in a subprocess, on a bundle, with IPv4/IPv6 connects made to fail."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("INSPECTION_VIEWER_DATABASE_URL", None)
    args = [str(tmp_path / "data"), str(bundle), str(tmp_path / "offline.png")]
    return subprocess.run(
        [sys.executable, "-c", _GUI_SCRIPT, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_offline_gui_with_network_fault_injected_shows_the_bundle(
    exported: Exported, tmp_path: Path
) -> None:
    proc = _offline_gui(exported.summary.path, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "screenshot saved" in proc.stdout
    assert "(3 inspections listed)" in proc.stdout
    assert "NETWORK ATTEMPT" not in proc.stderr
    assert (tmp_path / "offline.png").stat().st_size > 0
    assert not (tmp_path / "data" / "pgdata").exists()


# The same window, with every extraction and prune recording the thread it ran on.
_GUI_THREADS_SCRIPT = """
import sys, threading
import db.offline.archive as archive, db.offline.open as opening
calls = []
def recorded(name, real):
    def call(*args, **kwargs):
        calls.append((name, threading.current_thread() is threading.main_thread()))
        return real(*args, **kwargs)
    return call
archive.BundleArchive._extract_checked = recorded(
    "extract", archive.BundleArchive._extract_checked
)
opening.prune_bundle_cache = recorded("prune", opening.prune_bundle_cache)
from pathlib import Path
from db.config import resolve_paths
from viewer.app import run_offline_gui
data, bundle, shot = (Path(a) for a in sys.argv[1:4])
code = run_offline_gui(bundle, resolve_paths(data, data / "no-media"), shot)
print("EXTRACTIONS", sum(1 for name, _ in calls if name == "extract"))
print("PRUNES", sum(1 for name, _ in calls if name == "prune"))
print("ON THE GUI THREAD", sorted({name for name, on_gui in calls if on_gui}))
sys.exit(code)
"""


def test_offline_gui_extracts_and_prunes_only_off_the_gui_thread(
    exported: Exported, tmp_path: Path
) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("INSPECTION_VIEWER_DATABASE_URL", None)
    args = [str(tmp_path / "data"), str(exported.summary.path), str(tmp_path / "offline.png")]
    proc = subprocess.run(
        [sys.executable, "-c", _GUI_THREADS_SCRIPT, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    extractions = next(int(x.split()[1]) for x in lines if x.startswith("EXTRACTIONS "))
    assert extractions > 1, "the database and thumbnails were extracted"
    assert "PRUNES 1" in lines
    assert "ON THE GUI THREAD []" in lines


def test_offline_gui_on_a_truncated_bundle_shows_the_error_and_exits_1(
    exported: Exported, tmp_path: Path
) -> None:
    damaged = tmp_path / "damaged.ivbundle"
    damaged.write_bytes(exported.summary.path.read_bytes()[:100_000])
    proc = _offline_gui(damaged, tmp_path)
    assert proc.returncode == 1
    assert "damaged.ivbundle is truncated or damaged" in proc.stderr
    assert "Traceback" not in proc.stderr


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_export_cancelled_midway_leaves_no_file_and_keeps_an_older_bundle(  # type: ignore[no-untyped-def]
    demo_db, tmp_path: Path
) -> None:
    out = tmp_path / "large.ivbundle"
    out.write_bytes(b"the bundle from yesterday")
    copied: list[int] = []

    def progress(phase: str, done: int, total: int) -> None:
        if phase == PHASE_MEDIA:
            copied.append(done)

    with pytest.raises(ExportCancelled, match="no bundle was written"):
        export_bundle(
            demo_db.engine,
            source_store(demo_db),
            [LARGE_INSPECTION_REFERENCE],
            out=out,
            progress=progress,
            cancel=lambda: len(copied) > 5,
        )
    assert 5 < len(copied) < 40, "cancelled midway through the photos"
    assert _leftovers(tmp_path) == ["large.ivbundle"]
    assert out.read_bytes() == b"the bundle from yesterday"


def test_export_failing_midway_fault_injected_leaves_no_half_bundle(  # type: ignore[no-untyped-def]
    demo_db, tmp_path: Path
) -> None:
    def progress(phase: str, done: int, total: int) -> None:
        if phase == PHASE_MEDIA and done == 3:
            raise OSError(28, "No space left on device (injected)")

    with pytest.raises(OSError, match="injected"):
        export_bundle(
            demo_db.engine,
            source_store(demo_db),
            [LARGE_INSPECTION_REFERENCE],
            out=tmp_path / "large.ivbundle",
            progress=progress,
        )
    assert _leftovers(tmp_path) == []


# An export into `out` that is killed (SIGKILL, which no clean-up survives) at its third photo.
_KILLED_EXPORT = """
import os, signal, sys
from pathlib import Path
from sqlalchemy import make_url
from db.engine import make_engine
from db.offline import PHASE_MEDIA, export_bundle
from db.storage import open_store
url, media, reference, out = sys.argv[1:5]
def progress(phase, done, total):
    if phase == PHASE_MEDIA and done == 3:
        os.kill(os.getpid(), signal.SIGKILL)
export_bundle(
    make_engine(make_url(url)), open_store(media), [reference], out=Path(out), progress=progress
)
"""


def test_a_killed_export_s_partial_file_is_removed_by_the_next_export(  # type: ignore[no-untyped-def]
    demo_db, tmp_path: Path
) -> None:
    url = demo_db.engine.url.render_as_string(hide_password=False)
    args = [url, demo_db.media_dir.as_uri(), LARGE_INSPECTION_REFERENCE, tmp_path / "l.ivbundle"]
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_EXPORT, *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr
    [partial] = _leftovers(tmp_path)
    assert partial.startswith(".l.ivbundle.") and partial.endswith(".partial")

    reference = small_reference(demo_db.engine)
    export_bundle(demo_db.engine, source_store(demo_db), [reference], out=tmp_path / "s.ivbundle")
    assert _leftovers(tmp_path) == ["s.ivbundle"]


def test_unknown_reference_and_status_mismatch_are_clear_errors(  # type: ignore[no-untyped-def]
    demo_db, tmp_path: Path
) -> None:
    with pytest.raises(KnownError, match="no inspection with reference INS-0000-0000"):
        export_bundle(
            demo_db.engine,
            source_store(demo_db),
            ["INS-0000-0000", LARGE_INSPECTION_REFERENCE],
            out=tmp_path / "x.ivbundle",
        )
    with demo_db.engine.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM inspections WHERE reference_code = :r"),
            {"r": LARGE_INSPECTION_REFERENCE},
        ).scalar_one()
    other = "draft" if status != "draft" else "completed"
    with pytest.raises(KnownError, match=f"with status {other} with reference"):
        export_bundle(
            demo_db.engine,
            source_store(demo_db),
            [LARGE_INSPECTION_REFERENCE],
            other,
            out=tmp_path / "x.ivbundle",
        )
    assert _leftovers(tmp_path) == []


def test_export_by_status_alone_takes_every_inspection_with_it(  # type: ignore[no-untyped-def]
    demo_db, tmp_path: Path
) -> None:
    summary = export_bundle(
        demo_db.engine, source_store(demo_db), status="draft", out=tmp_path / "drafts.ivbundle"
    )
    with demo_db.engine.connect() as conn:
        drafts = conn.execute(
            text("SELECT count(*) FROM inspections WHERE status = 'draft'")
        ).scalar_one()
    assert summary.inspections == drafts > 0
    assert not summary.path.stat().st_mode & 0o111, "an ordinary file, as the umask says"
    with zipfile.ZipFile(summary.path) as zf:
        assert zf.getinfo(DATABASE_NAME).compress_type == zipfile.ZIP_DEFLATED
        media = [i for i in zf.infolist() if i.filename.startswith("media/")]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in media)


# --- the "Take offline..." dialog -----------------------------------------------------------------


def _job(demo_db: Any, reference: str, out: Path, gate: Any = None) -> Any:
    def job(progress: Any, cancel: threading.Event) -> ExportSummary:
        def report(phase: str, done: int, total: int) -> None:
            progress(phase, done, total)
            if gate is not None and phase == PHASE_MEDIA and done == 1:
                gate()

        return export_bundle(
            demo_db.engine,
            source_store(demo_db),
            [reference],
            out=out,
            progress=report,
            cancel=cancel,
        )

    return job


def test_take_offline_dialog_exports_in_a_worker_and_reports(  # type: ignore[no-untyped-def]
    demo_db, qtbot, tmp_path: Path
) -> None:
    from viewer.presenters.actions import describe_export
    from viewer.widgets.offline_export_dialog import OfflineExportDialog

    reference = small_reference(demo_db.engine)
    job = _job(demo_db, reference, tmp_path / "s.ivbundle")
    dialog = OfflineExportDialog(job, reference, describe_export)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.export_finished, timeout=60_000) as finished:
        dialog.start()
    assert dialog.wait(5)
    summary = finished.args[0]
    assert summary.inspections == 1 and summary.path.is_file()
    assert "Saved s.ivbundle" in dialog.outcome.text()


def test_take_offline_dialog_cancel_with_export_held_fault_injected_leaves_nothing(  # type: ignore[no-untyped-def]
    demo_db, qtbot, tmp_path: Path
) -> None:
    """The worker is held after its first photo until Cancel was pressed, so the cancel lands
    midway however fast the machine is."""
    from PySide6.QtWidgets import QDialogButtonBox

    from viewer.presenters.actions import describe_export
    from viewer.widgets.offline_export_dialog import OfflineExportDialog

    reached, release = threading.Event(), threading.Event()

    def hold() -> None:
        reached.set()
        release.wait(30)

    job = _job(demo_db, LARGE_INSPECTION_REFERENCE, tmp_path / "l.ivbundle", gate=hold)
    dialog = OfflineExportDialog(job, LARGE_INSPECTION_REFERENCE, describe_export)
    qtbot.addWidget(dialog)
    dialog.start()
    try:
        qtbot.waitUntil(reached.is_set, timeout=60_000)
        with qtbot.waitSignal(dialog.export_cancelled, timeout=60_000):
            dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
            assert dialog.phase.text() == "Cancelling..."
            release.set()
    finally:
        release.set()
        assert dialog.wait(30)
    assert "no bundle was written" in dialog.outcome.text()
    assert _leftovers(tmp_path) == []
