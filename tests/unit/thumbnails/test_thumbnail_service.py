"""ThumbnailService: delivery, bad files, priorities, cancellation, the disk cache, shutdown."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PosixPath
from typing import Any

import pytest
from PIL import Image
from PySide6.QtGui import QImage

from db.storage import LocalStore
from tests.fixtures_images import BAD_FILES, thumbnail_threads, write_jpeg
from viewer.thumbnails import maker as maker_module
from viewer.thumbnails.decode import ErrorKind
from viewer.thumbnails.disk_cache import DiskThumbnailCache, file_uri
from viewer.thumbnails.placeholder import placeholder
from viewer.thumbnails.service import (
    GRID_SIZE,
    PREVIEW_SIZE,
    ThumbnailRequest,
    ThumbnailService,
    ThumbnailStats,
)

MakeService = Callable[..., ThumbnailService]
WAIT_MS = 20_000


@dataclass
class Deliveries:
    """What a service told the view, in order."""

    ready: list[tuple[int, int, QImage]] = field(default_factory=list)
    failed: list[tuple[int, int, str, str]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.ready) + len(self.failed)

    @property
    def ready_ids(self) -> list[int]:
        return [media_id for media_id, _, _ in self.ready]

    def kinds(self) -> dict[int, str]:
        return {media_id: kind for media_id, _, kind, _ in self.failed}


def _listen(service: ThumbnailService) -> Deliveries:
    deliveries = Deliveries()
    service.thumbnail_ready.connect(
        lambda media_id, size, image: deliveries.ready.append((media_id, size, image))
    )
    service.thumbnail_failed.connect(
        lambda media_id, size, kind, reason: deliveries.failed.append(
            (media_id, size, kind, reason)
        )
    )
    return deliveries


@pytest.fixture(scope="module")
def slow_photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Big enough that a decode takes milliseconds, so queues really form."""
    return write_jpeg(tmp_path_factory.mktemp("slow") / "slow.jpg", 1600, 1200, seed=3)


def _copies(source: Path, folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copyfile(source, folder / f"{i}.jpg")) for i in range(count)]


def test_a_thumbnail_arrives_by_signal_then_comes_from_memory(
    make_service: MakeService, qtbot: Any, tmp_path: Path
) -> None:
    service = make_service(workers=2)
    request = ThumbnailRequest.for_file(7, write_jpeg(tmp_path / "a.jpg", 640, 480), GRID_SIZE)
    with qtbot.waitSignal(service.thumbnail_ready, timeout=WAIT_MS) as blocker:
        assert service.request(request) is None
    media_id, size, image = blocker.args
    assert (media_id, size, image.width(), image.height()) == (7, 256, 256, 192)
    again = service.request(request)
    assert again is not None and again.size() == image.size()
    stats = service.stats()
    assert (stats.requests, stats.memory_hits, stats.decodes, stats.disk_hits) == (2, 1, 1, 0)
    assert stats.cache.entries == 1 and stats.cache.bytes == image.sizeInBytes()


def test_bigint_media_ids_survive_the_signals(
    make_service: MakeService, qtbot: Any, tmp_path: Path
) -> None:
    service = make_service(workers=1)
    deliveries = _listen(service)
    big = 2**40 + 7  # media.id is BIGINT
    service.request(ThumbnailRequest.for_file(big, write_jpeg(tmp_path / "a.jpg", 64, 48)))
    service.request(ThumbnailRequest.for_file(big + 1, tmp_path / "absent.jpg"))
    qtbot.waitUntil(lambda: deliveries.count == 2, timeout=WAIT_MS)
    assert deliveries.ready_ids == [big]
    assert deliveries.kinds() == {big + 1: "missing"}


def test_an_exif_rotated_photo_arrives_rotated(
    make_service: MakeService, qtbot: Any, tmp_path: Path
) -> None:
    service = make_service(workers=1)
    photo = write_jpeg(tmp_path / "rotated.jpg", 400, 300, orientation=6)
    with qtbot.waitSignal(service.thumbnail_ready, timeout=WAIT_MS) as blocker:
        service.request(ThumbnailRequest.for_file(1, photo, GRID_SIZE))
    assert (blocker.args[2].width(), blocker.args[2].height()) == (192, 256)


def test_grid_and_preview_sizes_are_separate_entries(
    make_service: MakeService, qtbot: Any, tmp_path: Path
) -> None:
    service = make_service(workers=2, disk_cache=DiskThumbnailCache(tmp_path / "thumbs"))
    deliveries = _listen(service)
    photo = write_jpeg(tmp_path / "big.jpg", 2400, 1800)
    service.request(ThumbnailRequest.for_file(1, photo, GRID_SIZE))
    service.request(ThumbnailRequest.for_file(1, photo, PREVIEW_SIZE))
    qtbot.waitUntil(lambda: deliveries.count == 2, timeout=WAIT_MS)
    sizes = sorted((size, image.width()) for _, size, image in deliveries.ready)
    assert sizes == [(256, 256), (1024, 1024)]
    assert service.stats().decodes == 2
    assert service.shutdown()
    # A 1024 px PNG costs more to write and read than decoding the original again.
    assert [folder.name for folder in (tmp_path / "thumbs").iterdir()] == ["large"]


def _bad_and_good(tmp_path: Path, bad_files: dict[str, Path]) -> dict[int, Path]:
    good = {
        100 + i: write_jpeg(tmp_path / f"good{i}.jpg", 500, 400, orientation=(None, 6, 3)[i])
        for i in range(3)
    }
    bad = {i: bad_files[name] for i, name in enumerate(sorted(BAD_FILES))}
    # Good and bad interleaved, as a real inspection has them.
    return dict(sorted({**good, **bad}.items(), key=lambda item: item[1].name))


@pytest.mark.parametrize("with_disk_cache", [True, False])
def test_each_bad_file_fails_with_its_kind_while_the_good_ones_load(
    make_service: MakeService,
    qtbot: Any,
    tmp_path: Path,
    bad_files: dict[str, Path],
    with_disk_cache: bool,
) -> None:
    disk = DiskThumbnailCache(tmp_path / "thumbs") if with_disk_cache else None
    service = make_service(workers=2, disk_cache=disk)
    deliveries = _listen(service)
    batch = _bad_and_good(tmp_path, bad_files)
    for media_id, path in batch.items():
        service.request(ThumbnailRequest.for_file(media_id, path, GRID_SIZE))
    qtbot.waitUntil(lambda: deliveries.count == len(batch), timeout=WAIT_MS)

    assert sorted(deliveries.ready_ids) == [100, 101, 102]
    expected = {i: BAD_FILES[name][1].value for i, name in enumerate(sorted(BAD_FILES))}
    assert deliveries.kinds() == expected
    assert all(reason for _, _, _, reason in deliveries.failed)
    stats = service.stats()
    assert dict(stats.errors) == Counter(expected.values())
    assert stats.errors_total == len(BAD_FILES)
    for kind in set(expected.values()):
        tile = placeholder(kind, GRID_SIZE)
        assert (tile.width(), tile.height()) == (256, 192)


class _PermissionDeniedPath(PosixPath):
    """A path whose open() fails as a file without read permission does (a fault injected)."""

    def open(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        raise PermissionError(13, "Permission denied", str(self))


class _PermissionDeniedStore(LocalStore):
    """A folder whose files all fail to open as unreadable ones do (a fault injected)."""

    def local_path(self, key: str) -> Path:
        return _PermissionDeniedPath(super().local_path(key))


def test_permission_denied_fault_injected_fails_as_unreadable(
    make_service: MakeService, qtbot: Any, tmp_path: Path
) -> None:
    service = make_service(workers=1, disk_cache=DiskThumbnailCache(tmp_path / "thumbs"))
    photo = write_jpeg(tmp_path / "private.jpg", 64, 48)
    with qtbot.waitSignal(service.thumbnail_failed, timeout=WAIT_MS) as blocker:
        service.request(ThumbnailRequest(5, _PermissionDeniedStore(tmp_path), photo.name))
    assert blocker.args[2:] == ["unreadable", "Permission denied"]
    assert dict(service.stats().errors) == {"unreadable": 1}


def test_a_bug_fault_injected_is_reported_as_internal_and_the_worker_survives(
    make_service: MakeService,
    qtbot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real_decode = maker_module.decode_bytes
    broken = write_jpeg(tmp_path / "broken.jpg", 64, 48, seed=1).read_bytes()

    def decode_with_a_bug(data: bytes, size_px: int, max_pixels: int) -> QImage:
        if data == broken:
            raise ZeroDivisionError("a bug")
        return real_decode(data, size_px, max_pixels)

    monkeypatch.setattr(maker_module, "decode_bytes", decode_with_a_bug)
    service = make_service(workers=1)
    deliveries = _listen(service)
    with caplog.at_level(logging.ERROR, logger=maker_module.__name__):
        service.request(ThumbnailRequest.for_file(1, tmp_path / "broken.jpg", GRID_SIZE))
        service.request(ThumbnailRequest.for_file(2, write_jpeg(tmp_path / "fine.jpg", 64, 48)))
        qtbot.waitUntil(lambda: deliveries.count == 2, timeout=WAIT_MS)
    assert deliveries.kinds() == {1: "internal"}
    assert deliveries.ready_ids == [2]
    assert "ZeroDivisionError" in caplog.text


def test_stale_requests_are_not_decoded_after_the_selection_changes(
    make_service: MakeService, qtbot: Any, tmp_path: Path, slow_photo: Path
) -> None:
    service = make_service(workers=1)
    deliveries = _listen(service)
    for media_id, path in enumerate(_copies(slow_photo, tmp_path, 50)):
        service.request(ThumbnailRequest.for_file(media_id, path, GRID_SIZE))
    service.begin_generation()
    cancelled = service.stats().cancelled
    started = 50 - cancelled  # taken by the worker before the change: running or done
    qtbot.waitUntil(service.is_idle, timeout=WAIT_MS)
    stats = service.stats()
    assert stats.decodes == started <= 3
    assert stats.stale_results == started
    assert deliveries.count == 0  # results for the old selection are dropped, not delivered
    assert stats.cache.entries == started  # but kept: going back costs nothing


def test_a_late_request_for_an_old_generation_is_dropped(
    make_service: MakeService, tmp_path: Path
) -> None:
    service = make_service(workers=1)
    old = service.generation
    new = service.begin_generation()
    assert new == old + 1
    photo = write_jpeg(tmp_path / "late.jpg", 64, 48)
    assert service.request(ThumbnailRequest.for_file(1, photo), generation=old) is None
    assert service.is_idle()
    assert service.stats().cancelled == 1


def test_scrolled_away_requests_are_cancelled_before_decoding(
    make_service: MakeService, qtbot: Any, tmp_path: Path, slow_photo: Path
) -> None:
    service = make_service(workers=1)
    deliveries = _listen(service)
    requests = [
        ThumbnailRequest.for_file(media_id, path, GRID_SIZE)
        for media_id, path in enumerate(_copies(slow_photo, tmp_path, 30))
    ]
    for request in requests:
        service.request(request, visible=False)
    keep = {request.key for request in requests[20:]}
    dropped = service.cancel_stale(keep)
    dropped += service.cancel([requests[29].key])
    qtbot.waitUntil(service.is_idle, timeout=WAIT_MS)
    stats = service.stats()
    assert stats.cancelled == dropped
    assert stats.decodes == 30 - dropped == deliveries.count
    assert set(range(20, 29)) <= set(deliveries.ready_ids)
    assert 29 not in deliveries.ready_ids


def test_cancelling_one_size_leaves_the_other_queued(
    make_service: MakeService, qtbot: Any, tmp_path: Path, slow_photo: Path
) -> None:
    service = make_service(workers=1)
    deliveries = _listen(service)
    paths = _copies(slow_photo, tmp_path, 10)
    for media_id, path in enumerate(paths):
        service.request(ThumbnailRequest.for_file(media_id, path, GRID_SIZE), visible=False)
    service.request(ThumbnailRequest.for_file(3, paths[3], PREVIEW_SIZE), visible=False)
    taken = 11 - service.stats().queued
    dropped = service.cancel_stale([], size_px=GRID_SIZE)  # the grid scrolled to nothing
    assert dropped >= 10 - taken - 1
    qtbot.waitUntil(service.is_idle, timeout=WAIT_MS)
    assert (3, PREVIEW_SIZE) in {(media_id, size) for media_id, size, _ in deliveries.ready}


def test_visible_requests_are_decoded_before_invisible_ones_queued_earlier(
    make_service: MakeService, qtbot: Any, tmp_path: Path, slow_photo: Path
) -> None:
    service = make_service(workers=1)
    deliveries = _listen(service)
    paths = _copies(slow_photo, tmp_path, 14)
    for media_id in range(10):
        service.request(ThumbnailRequest.for_file(media_id, paths[media_id]), visible=False)
    taken = 10 - service.stats().queued  # already with the worker, nothing can stop those
    for media_id in range(10, 14):
        service.request(ThumbnailRequest.for_file(media_id, paths[media_id]), visible=True)
    qtbot.waitUntil(lambda: deliveries.count == 14, timeout=WAIT_MS)
    order = deliveries.ready_ids
    # One more may have been taken between counting and queueing the visible ones.
    assert set(range(10, 14)) <= set(order[: taken + 1 + 4])
    assert taken <= 3


def test_set_visible_moves_queued_requests_to_the_front(
    make_service: MakeService, qtbot: Any, tmp_path: Path, slow_photo: Path
) -> None:
    service = make_service(workers=1)
    deliveries = _listen(service)
    paths = _copies(slow_photo, tmp_path, 12)
    for media_id, path in enumerate(paths):
        service.request(ThumbnailRequest.for_file(media_id, path), visible=False)
    service.set_visible([(9, GRID_SIZE), (10, GRID_SIZE), (11, GRID_SIZE)])
    taken = 12 - service.stats().queued
    qtbot.waitUntil(lambda: deliveries.count == 12, timeout=WAIT_MS)
    assert {9, 10, 11} <= set(deliveries.ready_ids[: taken + 1 + 3])


def test_duplicate_requests_coalesce_into_one_decode(
    make_service: MakeService, qtbot: Any, tmp_path: Path
) -> None:
    service = make_service(workers=2)
    deliveries = _listen(service)
    request = ThumbnailRequest.for_file(3, write_jpeg(tmp_path / "dup.jpg", 640, 480))
    service.request(request, visible=False)
    for _ in range(4):
        service.request(request, visible=True)
    qtbot.waitUntil(service.is_idle, timeout=WAIT_MS)
    stats = service.stats()
    assert (stats.decodes, stats.coalesced, deliveries.count) == (1, 4, 1)


def _png_text(path: Path) -> dict[str, str]:
    with Image.open(path) as png:
        return dict(png.text)  # type: ignore[attr-defined]


def test_a_second_launch_reads_the_disk_cache_and_a_touched_original_is_redone(
    make_service: MakeService, qtbot: Any, tmp_path: Path
) -> None:
    originals = [write_jpeg(tmp_path / "photos" / f"{i}.jpg", 640, 480, seed=i) for i in range(6)]
    root = tmp_path / "thumbnails"

    def launch() -> ThumbnailStats:
        service = make_service(workers=2, disk_cache=DiskThumbnailCache(root))
        deliveries = _listen(service)
        for media_id, path in enumerate(originals):
            service.request(ThumbnailRequest.for_file(media_id, path, GRID_SIZE))
        qtbot.waitUntil(lambda: len(deliveries.ready) == len(originals), timeout=WAIT_MS)
        assert service.shutdown()  # finishes the disk writes deferred to idle time
        return service.stats()

    first = launch()
    assert (first.decodes, first.disk_hits) == (6, 0)
    written = sorted(p for p in root.rglob("*") if p.is_file())
    expected = sorted(
        root / "large" / (hashlib.md5(file_uri(p).encode()).hexdigest() + ".png") for p in originals
    )
    assert written == expected  # no temporary file left either
    assert _png_text(expected[0])["Thumb::URI"] in {file_uri(p) for p in originals}

    second = launch()
    assert (second.decodes, second.disk_hits) == (0, 6)

    touched = originals[2]
    mtime = int(touched.stat().st_mtime) + 100
    os.utime(touched, (mtime, mtime))
    third = launch()
    assert (third.decodes, third.disk_hits) == (1, 5)
    thumbnail = root / "large" / (hashlib.md5(file_uri(touched).encode()).hexdigest() + ".png")
    assert _png_text(thumbnail)["Thumb::MTime"] == str(mtime)


def test_shutdown_finishes_deferred_disk_writes(
    make_service: MakeService, qtbot: Any, tmp_path: Path, slow_photo: Path
) -> None:
    root = tmp_path / "thumbnails"
    service = make_service(workers=1, disk_cache=DiskThumbnailCache(root))
    deliveries = _listen(service)
    paths = _copies(slow_photo, tmp_path / "photos", 12)
    for media_id, path in enumerate(paths):
        service.request(ThumbnailRequest.for_file(media_id, path, GRID_SIZE))
    qtbot.waitUntil(lambda: deliveries.count == 12, timeout=WAIT_MS)
    assert service.shutdown()
    assert service.stats().pending_writes == 0
    assert len(list((root / "large").glob("*.png"))) == 12
    assert not [p for p in root.rglob("*") if p.suffix != ".png" and p.is_file()]


def test_no_worker_outlives_shutdown(
    make_service: MakeService, tmp_path: Path, slow_photo: Path
) -> None:
    service = make_service(workers=3)
    assert len(thumbnail_threads()) == 3
    for media_id, path in enumerate(_copies(slow_photo, tmp_path, 40)):
        service.request(ThumbnailRequest.for_file(media_id, path))
    assert service.shutdown()
    assert thumbnail_threads() == []
    assert service.shutdown()  # twice is fine
    assert service.request(ThumbnailRequest.for_file(99, slow_photo)) is None
    stats = service.stats()
    # Queued work was dropped; what the workers had taken finished but is never delivered.
    assert stats.cancelled > 0
    assert stats.cancelled - 1 + stats.in_flight == 40  # - 1: the request after shutdown


def test_decode_times_are_recorded_and_announced(
    make_service: MakeService, qtbot: Any, tmp_path: Path
) -> None:
    service = make_service(workers=1)
    timed: list[tuple[str, float]] = []
    service.work_timed.connect(timed.extend)
    deliveries = _listen(service)
    for media_id in range(4):
        service.request(
            ThumbnailRequest.for_file(media_id, write_jpeg(tmp_path / f"{media_id}.jpg", 320, 240))
        )
    qtbot.waitUntil(lambda: deliveries.count == 4, timeout=WAIT_MS)
    stats = service.stats()
    assert [source for source, _ in timed] == ["decode"] * 4
    assert len(stats.decode_seconds) == 4 and all(s > 0 for s in stats.decode_seconds)
    p50, p100 = stats.decode_percentile(50), stats.decode_percentile(100)
    assert p50 is not None and p100 == max(stats.decode_seconds) >= p50


def test_the_worker_count_is_configurable(make_service: MakeService) -> None:
    assert make_service(workers=1).workers == 1
    assert make_service().workers == (os.cpu_count() or 2)
    with pytest.raises(ValueError):
        ThumbnailService(workers=0)


def test_each_kind_has_its_own_placeholder(qapp: Any) -> None:
    tiles = {kind: placeholder(kind.value, 128) for kind in ErrorKind}
    for tile in tiles.values():
        assert (tile.width(), tile.height()) == (128, 96)
        blank = QImage(tile.size(), tile.format())
        blank.fill(tile.pixelColor(0, 0))
        assert tile != blank  # something is drawn on the grey
    distinct = {bytes(tile.constBits()) for tile in tiles.values()}
    assert len(distinct) == len(ErrorKind)


def test_thumbnails_finished_while_the_gui_thread_was_busy_arrive_as_one_batch(
    make_service: MakeService, qtbot: Any, tmp_path: Path
) -> None:
    """The GUI thread is woken once per batch, not per thumbnail: what the workers finish
    while it is busy (here: not returning to its event loop) is delivered by one signal."""
    service = make_service(workers=2)
    batches: list[tuple[Any, ...]] = []
    service.delivered.connect(batches.append)
    deliveries = _listen(service)
    photos = [write_jpeg(tmp_path / f"{i}.jpg", 320, 240, seed=i) for i in range(6)]
    for media_id, photo in enumerate(photos):
        service.request(ThumbnailRequest.for_file(media_id, photo))
    # Busy: the event loop does not run until every worker has queued its result.
    deadline = time.monotonic() + WAIT_MS / 1000
    while len(service._outcomes) < len(photos) and time.monotonic() < deadline:
        time.sleep(0.01)
    qtbot.waitUntil(lambda: deliveries.count == len(photos), timeout=WAIT_MS)
    assert len(batches) == 1
    assert sorted(outcome.key[0] for outcome in batches[0]) == list(range(len(photos)))
    assert sorted(deliveries.ready_ids) == list(range(len(photos)))  # per thumbnail, too
