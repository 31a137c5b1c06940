"""Browsing every demo inspection's photos keeps the thumbnail memory cache within its cap."""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
import pytest
from PySide6.QtGui import QImage
from sqlalchemy import text

from db.demo import BAD_MEDIA_KEYS
from db.storage import LocalStore
from tests.fixtures_images import thumbnail_threads
from viewer.thumbnails.cache import MIB, ThumbnailCache
from viewer.thumbnails.disk_cache import DiskThumbnailCache
from viewer.thumbnails.service import GRID_SIZE, ThumbnailRequest, ThumbnailService

if TYPE_CHECKING:
    from tests.integration.conftest import DemoDatabase

CAP_BYTES = 8 * MIB
ROWS_ON_SCREEN = 24
# Demo kind -> the ErrorKind the pipeline must report for it.
EXPECTED_BAD = {"missing": "missing", "truncated": "corrupt", "empty": "empty",
                "not_image": "not_image"}  # fmt: skip


@pytest.mark.slow
def test_browsing_every_demo_inspection_stays_within_the_cache_cap(
    demo_db: DemoDatabase,
    qtbot: Any,
    tmp_path: Path,
    record_property: Any,
) -> None:
    with demo_db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT inspection_id, id, storage_key FROM media WHERE deleted_at IS NULL "
                "ORDER BY inspection_id, captured_at, id"
            )
        ).all()
    inspections = {
        inspection_id: [(media_id, key) for _, media_id, key in group]
        for inspection_id, group in itertools.groupby(rows, key=lambda row: row[0])
    }
    service = ThumbnailService(
        ThumbnailCache(CAP_BYTES), DiskThumbnailCache(tmp_path / "thumbnails"), workers=2
    )
    pending: set[int] = set()
    failures: dict[int, str] = {}
    peak = 0

    def arrived(media_id: int) -> None:
        nonlocal peak
        peak = max(peak, service.cache.bytes)
        assert service.cache.bytes <= CAP_BYTES
        pending.discard(media_id)

    def ready(media_id: int, _size: int, _image: QImage) -> None:
        arrived(media_id)

    def failed(media_id: int, _size: int, kind: str, _reason: str) -> None:
        failures[media_id] = kind
        arrived(media_id)

    service.thumbnail_ready.connect(ready)
    service.thumbnail_failed.connect(failed)
    try:
        for media in inspections.values():
            service.begin_generation()  # the user selects the next inspection
            for position, (media_id, key) in enumerate(media):
                request = ThumbnailRequest(
                    media_id, LocalStore(demo_db.media_dir), key, size_px=GRID_SIZE
                )
                pending.add(media_id)
                if service.request(request, visible=position < ROWS_ON_SCREEN) is not None:
                    arrived(media_id)
            qtbot.waitUntil(lambda: not pending, timeout=120_000)
    finally:
        assert service.shutdown()
    assert thumbnail_threads() == []

    stats = service.stats()
    rss = psutil.Process(os.getpid()).memory_info().rss
    record_property("peak_cache_bytes", peak)
    record_property("rss_bytes", rss)
    print(
        f"\npeak cache {peak} bytes (cap {CAP_BYTES}); RSS {rss / MIB:.0f} MiB; "
        f"{stats.decodes} decodes, {stats.disk_hits} disk hits, {stats.cache.evictions} evictions"
    )

    assert 0 < peak <= CAP_BYTES
    assert stats.cache.evictions > 0  # the cap did bind
    keys_by_id = {media_id: key for _, media_id, key in rows}
    bad_kinds = {key: kind for kind, key in BAD_MEDIA_KEYS.items()}
    assert {keys_by_id[m]: kind for m, kind in failures.items()} == {
        key: EXPECTED_BAD[bad_kinds[key]] for key in keys_by_id.values() if key in bad_kinds
    }
    assert stats.decodes + stats.disk_hits + stats.errors_total == len(rows)
    # Rows share the demo's files: each is decoded once, or once per worker that raced for it.
    assert stats.decodes <= demo_db.summary.image_files * service.workers
