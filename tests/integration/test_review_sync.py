"""Offline review and sync back on the real server and real bundles: the journal, idempotent
sync (twice, and after kill -9 half way), conflicts kept both, records kept for deleted or
changed inspections, another database's bundle and a hand-edited journal refused."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from db.config import AppPaths
from db.engine import make_engine
from db.metrics import QueryMetrics
from db.migrate import upgrade
from db.offline import export_bundle
from db.offline.journal import JournalError, journal_path
from db.review import ReviewKind, ReviewRecord, read_review_state
from db.review.sync import JournalInvalid, SyncRefused, sync_bundle
from db.storage import LocalStore
from viewer.presenters.session import OfflineBundleSource

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def review_db(create_database: Callable[[str], URL]) -> Iterator[Engine]:
    """A migrated database of this module's own: each test makes its own inspection in it."""
    engine = make_engine(create_database("review"))
    upgrade(engine)
    yield engine
    engine.dispose()


def make_inspection(engine: Engine, ref: str, items: int = 3) -> tuple[int, list[int], list[int]]:
    """An inspection with `items` checklist items and one photo each (its file absent: the
    bundle marks it unavailable, which review does not mind)."""
    with engine.begin() as conn:
        inspection = conn.execute(
            text(
                "INSERT INTO inspections (reference_code, site_name, address, inspector_name,"
                " scheduled_at) VALUES (:ref, 'Depot', '1 Quay', 'A. Inspector', :t) RETURNING id"
            ),
            {"ref": ref, "t": T0},
        ).scalar_one()
        item_ids, media_ids = [], []
        for p in range(1, items + 1):
            item = conn.execute(
                text(
                    "INSERT INTO checklist_items (inspection_id, section, position, title)"
                    " VALUES (:i, 'Roof', :p, 'Check ' || :p) RETURNING id"
                ),
                {"i": inspection, "p": p},
            ).scalar_one()
            media = conn.execute(
                text(
                    "INSERT INTO media (inspection_id, checklist_item_id, storage_key, mime_type,"
                    " width, height, byte_size, sha256, captured_at) VALUES (:i, :c,"
                    " :key, 'image/jpeg', 10, 10, 10, repeat('a', 64), :t) RETURNING id"
                ),
                {"i": inspection, "c": item, "key": f"{ref}/{p}.jpg", "t": T0},
            ).scalar_one()
            item_ids.append(item)
            media_ids.append(media)
    return inspection, item_ids, media_ids


def export(engine: Engine, ref: str, tmp_path: Path) -> Path:
    media = tmp_path / "media"
    media.mkdir(exist_ok=True)
    out = tmp_path / f"{ref}.ivbundle"
    export_bundle(engine, LocalStore(media), [ref], out=out)
    return out


def review_offline(bundle: Path, paths: AppPaths, records: list[ReviewRecord]) -> int:
    """Open the bundle as the window does, record, and return how many records wait."""

    async def scenario() -> int:
        source = OfflineBundleSource(bundle, paths)
        await source.open(lambda *_: None)
        try:
            for record in records:
                await source.record_review(record, QueryMetrics())
            assert source.reviews is not None
            waiting = await source.reviews.waiting()
            assert waiting is not None
            return waiting
        finally:
            await source.close()

    return asyncio.run(scenario())


def verdict(inspection: int, item: int, value: str, who: str = "Offline Olga") -> ReviewRecord:
    return ReviewRecord.new(
        ReviewKind.ITEM, inspection, target=item, value=value, reviewer=who, origin="bundle"
    )


def on_server(engine: Engine, inspection: int) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT id, kind, value, reviewer, origin FROM review_records"
                    " WHERE inspection_id = :i ORDER BY seq"
                ),
                {"i": inspection},
            )
        ]


def test_review_offline_then_sync_twice_visible_to_a_second_window(
    review_db: Engine, tmp_path: Path, app_paths: AppPaths
) -> None:
    inspection, items, media = make_inspection(review_db, "SYNC-1")
    bundle = export(review_db, "SYNC-1", tmp_path)
    records = [
        verdict(inspection, items[0], "needs_rework"),
        verdict(inspection, items[0], "accepted"),
        ReviewRecord.new(
            ReviewKind.PHOTO,
            inspection,
            target=media[1],
            value="unclear",
            comment="blurred",
            reviewer="Offline Olga",
            origin="bundle",
        ),
        ReviewRecord.new(
            ReviewKind.INSPECTION,
            inspection,
            value="approved",
            comment="All good",
            reviewer="Offline Olga",
            origin="bundle",
        ),
    ]
    assert review_offline(bundle, app_paths, records) == 4
    assert journal_path(bundle).exists()

    summary = sync_bundle(review_db, bundle, app_paths.cache_dir)
    assert (summary.pushed, summary.already_there, summary.conflicts) == (4, 0, ())
    assert review_offline(bundle, app_paths, []) == 0  # nothing waits any more
    again = sync_bundle(review_db, bundle, app_paths.cache_dir)
    assert (again.pushed, again.already_there) == (0, 0)
    assert [r[0] for r in on_server(review_db, inspection)] == [r.id for r in records]

    second_window = make_engine(review_db.url)  # another window on the same database
    try:
        with second_window.connect() as conn:
            state = read_review_state(conn, inspection)
    finally:
        second_window.dispose()
    assert state.item(items[0]).value == "accepted"  # type: ignore[union-attr]
    assert state.item(items[0]).versions == 2  # type: ignore[union-attr]
    assert state.photo(media[1]).record.comment == "blurred"  # type: ignore[union-attr]
    assert state.decision is not None and state.decision.record.origin == "bundle"
    runs = sqlite3.connect(journal_path(bundle)).execute("SELECT pushed FROM sync_runs").fetchall()
    assert runs == [(4,)]


def test_a_conflicting_server_verdict_after_export_is_reported_and_both_kept(
    review_db: Engine, tmp_path: Path, app_paths: AppPaths
) -> None:
    inspection, items, _ = make_inspection(review_db, "SYNC-2")
    bundle = export(review_db, "SYNC-2", tmp_path)
    theirs = ReviewRecord.new(
        ReviewKind.ITEM, inspection, target=items[0], value="accepted", reviewer="Online Omar"
    )
    same = ReviewRecord.new(
        ReviewKind.ITEM, inspection, target=items[1], value="accepted", reviewer="Online Omar"
    )
    with review_db.begin() as conn:
        from db.review.queries import row_values

        for rec in (theirs, same):
            conn.execute(
                text(
                    "INSERT INTO review_records (id, kind, inspection_id, checklist_item_id,"
                    " value, reviewer, created_at) VALUES (:id, :kind, :inspection_id,"
                    " :checklist_item_id, :value, :reviewer, :created_at)"
                ),
                row_values(rec),
            )
    ours = verdict(inspection, items[0], "needs_rework")
    review_offline(bundle, app_paths, [ours, verdict(inspection, items[1], "accepted")])

    summary = sync_bundle(review_db, bundle, app_paths.cache_dir)
    assert summary.pushed == 2
    assert [c.ours.id for c in summary.conflicts] == [ours.id]
    assert "Online Omar said Accepted" in summary.lines()[1]
    assert {r[0] for r in on_server(review_db, inspection)} >= {theirs.id, ours.id}
    with review_db.connect() as conn:
        state = read_review_state(conn, inspection)
    assert state.item(items[0]).conflict  # type: ignore[union-attr]
    assert not state.item(items[1]).conflict  # type: ignore[union-attr]
    # The reviewer resolves it with a new record.
    review_offline(bundle, app_paths, [verdict(inspection, items[0], "accepted")])
    sync_bundle(review_db, bundle, app_paths.cache_dir)
    with review_db.connect() as conn:
        assert not read_review_state(conn, inspection).item(items[0]).conflict  # type: ignore[union-attr]


def test_records_for_a_deleted_or_changed_inspection_stay_in_the_journal(
    review_db: Engine, tmp_path: Path, app_paths: AppPaths
) -> None:
    changed, c_items, _ = make_inspection(review_db, "SYNC-3")
    deleted, d_items, _ = make_inspection(review_db, "SYNC-4")
    media = tmp_path / "media"
    media.mkdir()
    bundle = tmp_path / "two.ivbundle"
    export_bundle(review_db, LocalStore(media), ["SYNC-3", "SYNC-4"], out=bundle)
    review_offline(
        bundle,
        app_paths,
        [verdict(changed, c_items[0], "accepted"), verdict(deleted, d_items[0], "needs_rework")],
    )
    with review_db.begin() as conn:
        conn.execute(
            text("UPDATE inspections SET updated_at = now() WHERE id = :i"), {"i": changed}
        )
        conn.execute(text("DELETE FROM inspections WHERE id = :i"), {"i": deleted})

    summary = sync_bundle(review_db, bundle, app_paths.cache_dir)
    assert (summary.pushed, summary.kept_records) == (0, 2)
    assert any("SYNC-4 was deleted on the server" in k for k in summary.kept)
    assert any("SYNC-3 changed on the server" in k for k in summary.kept)
    assert review_offline(bundle, app_paths, []) == 2  # nothing lost: both still wait
    forced = sync_bundle(review_db, bundle, app_paths.cache_dir, include_changed=True)
    assert (forced.pushed, forced.kept_records) == (1, 1)


def test_a_bundle_from_another_database_is_refused(
    review_db: Engine, migrated_engine: Engine, tmp_path: Path, app_paths: AppPaths
) -> None:
    inspection, items, _ = make_inspection(review_db, "SYNC-5")
    bundle = export(review_db, "SYNC-5", tmp_path)
    review_offline(bundle, app_paths, [verdict(inspection, items[0], "accepted")])
    with pytest.raises(SyncRefused, match="exported from another database"):
        sync_bundle(migrated_engine, bundle, app_paths.cache_dir)
    assert review_offline(bundle, app_paths, []) == 1


def test_a_hand_edited_journal_is_reported_and_nothing_applied(
    review_db: Engine, tmp_path: Path, app_paths: AppPaths
) -> None:
    inspection, items, _ = make_inspection(review_db, "SYNC-6")
    bundle = export(review_db, "SYNC-6", tmp_path)
    review_offline(bundle, app_paths, [verdict(inspection, i, "accepted") for i in items])
    with sqlite3.connect(journal_path(bundle)) as con:
        con.execute("UPDATE records SET value = 'great' WHERE seq = 2")
        con.execute("UPDATE records SET checklist_item_id = 999999 WHERE seq = 3")
    with pytest.raises(JournalInvalid, match="2 invalid record") as failure:
        sync_bundle(review_db, bundle, app_paths.cache_dir)
    assert "'great' is not a item value" in str(failure.value)
    assert on_server(review_db, inspection) == []
    with sqlite3.connect(journal_path(bundle)) as con:  # a view or trigger added: refused
        con.execute("CREATE VIEW sneaky AS SELECT 1")
    with pytest.raises(JournalError, match="not a review journal this app wrote"):
        review_offline(bundle, app_paths, [])


# --- kill -9 ---------------------------------------------------------------------------------

CHILD_SYNC = """
import sys
from pathlib import Path
from db.engine import make_engine
from db.review import sync as review_sync
from db.review.sync import sync_bundle

review_sync.BATCH_RECORDS = 5

def pause(done: int, total: int) -> None:
    print(f"batch {done}/{total}", flush=True)
    sys.stdin.readline()  # the parent kills us here, inside the transaction

engine = make_engine(sys.argv[1])
sync_bundle(engine, Path(sys.argv[2]), Path(sys.argv[3]), on_batch=pause)
"""

CHILD_JOURNAL = """
import sys, uuid
from datetime import UTC, datetime
from pathlib import Path
from db.offline.journal import BundleIdentity, ReviewJournal

journal = ReviewJournal(Path(sys.argv[1]), BundleIdentity(sys.argv[2], None, 0))
n = 0
while True:
    journal.append([uuid.uuid4(), "inspection", 1, None, None, "approved", "x" * 500, "K",
                    datetime.now(UTC)])
    n += 1
    print(n, flush=True)
"""


def _child(script: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


def test_sync_killed_half_way_then_run_again_completes_without_duplicates(
    review_db: Engine, tmp_path: Path, app_paths: AppPaths
) -> None:
    inspection, items, _ = make_inspection(review_db, "SYNC-7", items=6)
    bundle = export(review_db, "SYNC-7", tmp_path)
    records = [verdict(inspection, i, v) for v in ("needs_rework", "accepted") for i in items]
    review_offline(bundle, app_paths, records)
    url = review_db.url.render_as_string(hide_password=False)
    child = _child(CHILD_SYNC, url, str(bundle), str(app_paths.cache_dir))
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "batch 5/12"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert on_server(review_db, inspection) == []  # one transaction: nothing half-applied

    summary = sync_bundle(review_db, bundle, app_paths.cache_dir)
    assert (summary.pushed, summary.already_there) == (12, 0)
    assert [r[0] for r in on_server(review_db, inspection)] == [r.id for r in records]


def test_sync_interrupted_after_commit_fault_injected_then_run_again_finds_them_there(
    review_db: Engine, tmp_path: Path, app_paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    inspection, items, _ = make_inspection(review_db, "SYNC-8")
    bundle = export(review_db, "SYNC-8", tmp_path)
    review_offline(bundle, app_paths, [verdict(inspection, i, "accepted") for i in items])
    from db.offline.journal import ReviewJournal

    def crash(*_: object) -> int:
        raise KeyboardInterrupt("fault injected: killed before the journal was updated")

    with monkeypatch.context() as patch:
        patch.setattr(ReviewJournal, "finish_sync", crash)
        with pytest.raises(KeyboardInterrupt):
            sync_bundle(review_db, bundle, app_paths.cache_dir)
    assert len(on_server(review_db, inspection)) == 3
    summary = sync_bundle(review_db, bundle, app_paths.cache_dir)
    assert (summary.pushed, summary.already_there) == (0, 3)
    assert len(on_server(review_db, inspection)) == 3


def test_journal_survives_kill_9_while_records_are_written(tmp_path: Path) -> None:
    path = tmp_path / "b.ivbundle.review"
    child = _child(CHILD_JOURNAL, str(path), "f" * 64)
    assert child.stdout is not None
    written = 0
    while written < 40:
        written = int(child.stdout.readline())
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = con.execute("SELECT comment FROM records").fetchall()
    assert len(rows) >= written  # every record the child saw committed is there, whole
    assert all(r == ("x" * 500,) for r in rows)


def test_sync_command_prints_the_summary_and_refuses_another_database_in_one_line(
    review_db: Engine,
    migrated_engine: Engine,
    tmp_path: Path,
    app_paths: AppPaths,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from db.config import libpq_url
    from viewer.cli import main

    inspection, items, _ = make_inspection(review_db, "SYNC-9")
    bundle = export(review_db, "SYNC-9", tmp_path)
    review_offline(bundle, app_paths, [verdict(inspection, items[0], "accepted")])
    data = ["--data-dir", str(app_paths.data_dir)]
    other = libpq_url(migrated_engine.url)
    assert main(["--database-url", other, *data, "sync", str(bundle)]) == 1
    refused = capsys.readouterr()
    assert "exported from another database" in refused.err
    assert len(refused.err.strip().splitlines()) == 1
    url = libpq_url(review_db.url)
    assert main(["--database-url", url, *data, "sync", str(bundle)]) == 0
    assert "1 pushed, 0 already there, 0 conflicts" in capsys.readouterr().out
    assert main(["--database-url", url, *data, "sync", str(bundle)]) == 0
    assert "0 pushed" in capsys.readouterr().out
