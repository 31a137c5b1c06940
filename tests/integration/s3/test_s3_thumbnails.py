"""The grid's thumbnails from a real SeaweedFS: the first client builds the team thumbnail
tier, a second one never downloads an original, a read-only bucket still fills the grid, and a
server that goes down mid-scroll gives placeholders, then is used again once it is back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QImage

from db.storage.s3 import S3Store, tier_key
from tests.fixtures_images import thumbnail_threads
from tests.integration.s3.buckets import (
    Photo,
    fresh_prefix,
    make_store,
    proxy_endpoint,
    upload,
)
from viewer.bench.proxy import DelayProxy
from viewer.bench.seaweed import SeaweedServer
from viewer.thumbnails.cache import ThumbnailCache
from viewer.thumbnails.service import GRID_SIZE, ThumbnailRequest, ThumbnailService


class Grid:
    """A thumbnail service and what it delivered, as the grid would see it."""

    def __init__(self, workers: int = 4) -> None:
        self.service = ThumbnailService(ThumbnailCache(), None, workers=workers)
        self.ready: dict[int, QImage] = {}
        self.failed: dict[int, tuple[str, str]] = {}
        self.service.thumbnail_ready.connect(self._ready)
        self.service.thumbnail_failed.connect(self._failed)

    def _ready(self, media_id: int, _size: int, image: QImage) -> None:
        self.ready[media_id] = image

    def _failed(self, media_id: int, _size: int, kind: str, reason: str) -> None:
        self.failed[media_id] = (kind, reason)

    def show(self, qtbot: Any, store: S3Store, photos: list[Photo]) -> None:
        """Ask for every photo's thumbnail and wait until each has an answer."""
        for photo in photos:
            self.ready.pop(photo.media_id, None)
            self.failed.pop(photo.media_id, None)
            request = ThumbnailRequest(photo.media_id, store, photo.key, photo.sha256, GRID_SIZE)
            image = self.service.request(request)
            if image is not None:
                self.ready[photo.media_id] = image
        wanted = {p.media_id for p in photos}
        qtbot.waitUntil(lambda: wanted <= set(self.ready) | set(self.failed), timeout=60_000)

    def close(self) -> None:
        assert self.service.shutdown()
        self.service.deleteLater()


def tier_objects(server: SeaweedServer, prefix: str) -> list[str]:
    import obstore

    pages = obstore.list(server.client(), f"{prefix}/thumbnails/")
    return [meta["path"] for page in pages for meta in page]


def test_the_first_client_builds_the_tier_and_a_second_never_downloads_an_original(
    seaweed: SeaweedServer, bucket_photos: list[Photo], qtbot: Any, tmp_path: Path
) -> None:
    prefix = fresh_prefix("tier")
    upload(seaweed, prefix, bucket_photos)
    first, second = Grid(), Grid()
    try:
        store = make_store(seaweed, prefix, tmp_path / "first")
        first.show(qtbot, store, bucket_photos)
        store.close()  # publishes what is still queued
        assert first.failed == {}
        assert store.stats().tier_published == len(bucket_photos)
        assert sorted(tier_objects(seaweed, prefix)) == sorted(
            f"{prefix}/{tier_key(256, p.sha256)}" for p in bucket_photos
        )

        other = make_store(seaweed, prefix, tmp_path / "second")
        second.show(qtbot, other, bucket_photos)
        other.close()
    finally:
        first.close()
        second.close()
    assert thumbnail_threads() == []
    assert second.failed == {}
    assert all(max(i.width(), i.height()) == GRID_SIZE for i in second.ready.values())
    stats = other.stats()
    assert (stats.tier_hits, stats.tier_misses, stats.tier_published) == (len(bucket_photos), 0, 0)
    originals = sum(len(p.data) for p in bucket_photos)
    assert stats.bytes_received < originals / 5
    cached = [p for p in (tmp_path / "second").rglob("*.jpg")]
    assert cached and all("/thumbnails/256/" in str(p) for p in cached)


def test_a_damaged_tier_thumbnail_is_ignored_and_the_original_decoded(
    seaweed: SeaweedServer, bucket_photos: list[Photo], qtbot: Any, tmp_path: Path
) -> None:
    """A tier object is untrusted input: garbage under a photo's tier key (another client's
    bug, a hostile writer) must not become a placeholder while the original is fine."""
    import obstore

    prefix = fresh_prefix("damaged-tier")
    photos = bucket_photos[:3]
    upload(seaweed, prefix, photos)
    damaged = photos[0]
    obstore.put(seaweed.client(), f"{prefix}/{tier_key(256, damaged.sha256)}", b"\xff\xd8garbage")
    store = make_store(seaweed, prefix, tmp_path)
    grid = Grid()
    try:
        grid.show(qtbot, store, photos)
    finally:
        store.close()
        grid.close()
    assert grid.failed == {}
    assert set(grid.ready) == {p.media_id for p in photos}
    assert max(grid.ready[damaged.media_id].width(), grid.ready[damaged.media_id].height()) == (
        GRID_SIZE
    )
    assert store.stats().tier_hits == 1  # fetched, then refused by the decoder


def test_a_bucket_that_refuses_writes_turns_the_tier_off_and_the_grid_still_fills(
    seaweed: SeaweedServer, bucket_photos: list[Photo], qtbot: Any, tmp_path: Path
) -> None:
    prefix = fresh_prefix("read-only")
    upload(seaweed, prefix, bucket_photos[:8])
    assert seaweed.reader is not None
    store = make_store(seaweed, prefix, tmp_path, keys=seaweed.reader)
    grid = Grid()
    try:
        grid.show(qtbot, store, bucket_photos[:8])
        qtbot.waitUntil(lambda: not store.stats().tier_writes, timeout=10_000)
        grid.show(qtbot, store, bucket_photos[:8])  # from memory now; nothing more is offered
    finally:
        store.close()
        grid.close()
    assert grid.failed == {} and len(grid.ready) == 8
    assert tier_objects(seaweed, prefix) == []
    assert store.stats().tier_published == 0


def test_thumbnails_past_the_publishing_queue_are_counted_and_offered_again_later(
    seaweed: SeaweedServer, bucket_photos: list[Photo], qtbot: Any, tmp_path: Path
) -> None:
    prefix = fresh_prefix("queue-full")
    photos = bucket_photos[:6]
    upload(seaweed, prefix, photos)
    # A queue of one byte holds no thumbnail: every one offered is dropped.
    store = make_store(seaweed, prefix, tmp_path, tier_queue_bytes=1)
    grid = Grid()
    try:
        grid.show(qtbot, store, photos)
        qtbot.waitUntil(lambda: store.stats().tier_dropped == len(photos), timeout=10_000)
        # Not marked as published: the next client to decode them offers them again.
        assert all(store.wants_thumbnail(p.sha256, GRID_SIZE) for p in photos)
    finally:
        store.close()
        grid.close()
    assert grid.failed == {} and len(grid.ready) == len(photos)
    stats = store.stats()
    assert (stats.tier_published, stats.tier_dropped) == (0, len(photos))
    assert tier_objects(seaweed, prefix) == []


def test_server_down_mid_scroll_gives_placeholders_then_recovers_fault_injected(
    seaweed: SeaweedServer,
    bucket_photos: list[Photo],
    proxy: DelayProxy,
    qtbot: Any,
    tmp_path: Path,
) -> None:
    prefix = fresh_prefix("down-mid-scroll")
    upload(seaweed, prefix, bucket_photos)
    store = make_store(
        seaweed,
        prefix,
        tmp_path,
        endpoint=proxy_endpoint(proxy),
        retry_timeout_s=1.0,
        cooldown_s=0.0,
        tier_writes=False,
    )
    grid = Grid()
    seen, later = bucket_photos[:8], bucket_photos[8:16]
    try:
        grid.show(qtbot, store, seen)
        assert grid.failed == {}
        proxy.set_down(True)  # the user scrolls on; the server is gone
        grid.show(qtbot, store, later)
        assert set(grid.failed) == {p.media_id for p in later}
        assert {kind for kind, _ in grid.failed.values()} == {"unreadable"}
        assert all("is not answering" in reason for _, reason in grid.failed.values())
        proxy.set_down(False)  # back: the same store, no restart
        grid.show(qtbot, store, later)
    finally:
        store.close()
        grid.close()
    assert grid.failed == {}
    assert {p.media_id for p in seen + later} <= set(grid.ready)
