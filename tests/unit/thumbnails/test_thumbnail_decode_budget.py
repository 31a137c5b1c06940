"""The decode memory budget: shared by the workers, never exceeded, never a deadlock."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtGui import QImage

from tests.fixtures_images import thumbnail_threads, write_jpeg
from viewer.thumbnails import maker as maker_module
from viewer.thumbnails.budget import DEFAULT_DECODE_MEMORY_BYTES, DecodeBudget, Withdrawn
from viewer.thumbnails.decode import ErrorKind, ThumbnailError, estimated_decode_bytes
from viewer.thumbnails.service import GRID_SIZE, ThumbnailRequest, ThumbnailService

MakeService = Callable[..., ThumbnailService]
WAIT_MS = 60_000
MB = 1024 * 1024
# 62 MP: Qt decodes a PNG at full size whatever the thumbnail's (about 250 MB of pixels).
HUGE_EDGE = 7900


@pytest.fixture(scope="module")
def huge_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid 7900x7900 PNG of one colour: a few hundred KB on disk, 62 MP to decode."""
    path = tmp_path_factory.mktemp("huge") / "huge.png"
    Image.new("RGB", (HUGE_EDGE, HUGE_EDGE), (40, 120, 200)).save(path)
    return path


@pytest.fixture
def release(make_service: MakeService) -> Iterator[threading.Event]:
    """Unblocks the fault-injected decoders; set at teardown too, before the services are shut
    down (this fixture depends on theirs), so a failing test still joins its workers."""
    event = threading.Event()
    yield event
    event.set()


def _copies(source: Path, folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copyfile(source, folder / f"{i}{source.suffix}")) for i in range(count)]


def _outcomes(service: ThumbnailService) -> dict[int, str]:
    """media id -> "ready" or the failure's kind and reason, as the view hears them."""
    seen: dict[int, str] = {}
    service.thumbnail_ready.connect(
        lambda media_id, size, image: seen.__setitem__(media_id, "ready")
    )
    service.thumbnail_failed.connect(
        lambda media_id, size, kind, reason: seen.__setitem__(media_id, f"{kind}: {reason}")
    )
    return seen


# --- the budget itself --------------------------------------------------------------------


def test_a_reservation_over_the_whole_budget_is_refused_at_once() -> None:
    budget = DecodeBudget(100 * MB)
    with pytest.raises(ThumbnailError) as caught:
        budget.reserve(300 * MB)
    assert caught.value.kind is ErrorKind.TOO_LARGE
    assert "300 MB" in caught.value.reason and "100 MB decode budget" in caught.value.reason
    assert (budget.reserved, budget.peak) == (0, 0)


def test_a_waiter_goes_ahead_when_memory_is_released_and_close_wakes_the_rest(qtbot: Any) -> None:
    budget = DecodeBudget(100)
    held = budget.reserve(60)
    outcomes: list[str] = []

    def wait_for(nbytes: int) -> None:
        try:
            budget.reserve(nbytes)
            outcomes.append(f"got {nbytes}")
        except Withdrawn:
            outcomes.append(f"closed {nbytes}")

    first = threading.Thread(target=wait_for, args=(50,))
    first.start()
    # Waits are counted when a reservation finds the budget full, before it blocks.
    qtbot.waitUntil(lambda: budget.waits == 1, timeout=WAIT_MS)
    second = threading.Thread(target=wait_for, args=(90,))
    second.start()
    qtbot.waitUntil(lambda: budget.waits == 2, timeout=WAIT_MS)
    assert outcomes == [] and budget.reserved == 60
    budget.release(held)
    first.join()
    assert outcomes == ["got 50"] and budget.reserved == 50  # 90 does not fit beside it
    budget.release(held)  # twice is harmless
    assert budget.reserved == 50
    budget.close()
    second.join()
    assert outcomes == ["got 50", "closed 90"]
    assert budget.peak == 60


# --- the service: one budget for all workers ----------------------------------------------


def test_huge_pngs_on_four_workers_never_reserve_more_than_the_budget(
    make_service: MakeService, qtbot: Any, tmp_path: Path, huge_png: Path
) -> None:
    service = make_service(workers=4)  # the default budget: two such decodes at a time
    outcomes = _outcomes(service)
    paths = _copies(huge_png, tmp_path, 4)
    for media_id, path in enumerate(paths):
        service.request(ThumbnailRequest.for_file(media_id, path, GRID_SIZE))
    qtbot.waitUntil(lambda: len(outcomes) == len(paths), timeout=WAIT_MS)
    assert set(outcomes.values()) == {"ready"}
    stats = service.stats()
    estimate = estimated_decode_bytes(paths[0].read_bytes(), GRID_SIZE)
    assert 2 * estimate <= DEFAULT_DECODE_MEMORY_BYTES < 3 * estimate
    assert estimate <= stats.decode_bytes_peak <= DEFAULT_DECODE_MEMORY_BYTES
    assert stats.decode_bytes_reserved == 0


def test_workers_wait_for_memory_fault_injected_and_go_on_when_it_is_released(
    make_service: MakeService,
    qtbot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    release: threading.Event,
) -> None:
    source = tmp_path / "photo.png"
    Image.new("RGB", (800, 600), (200, 40, 40)).save(source)
    paths = _copies(source, tmp_path / "copies", 4)
    estimate = estimated_decode_bytes(paths[0].read_bytes(), GRID_SIZE)
    decoding: list[bytes] = []
    real_decode = maker_module.decode_bytes

    def decode_when_released(data: bytes, size_px: int, max_pixels: int) -> QImage:
        decoding.append(data)
        release.wait(WAIT_MS / 1000)
        return real_decode(data, size_px, max_pixels)

    monkeypatch.setattr(maker_module, "decode_bytes", decode_when_released)
    budget = 2 * estimate + estimate // 2  # room for two decodes at a time
    service = make_service(workers=4, decode_memory_bytes=budget)
    outcomes = _outcomes(service)
    for media_id, path in enumerate(paths):
        service.request(ThumbnailRequest.for_file(media_id, path, GRID_SIZE))
    qtbot.waitUntil(
        lambda: len(decoding) == 2 and service.stats().decode_memory_waits == 2, timeout=WAIT_MS
    )
    stats = service.stats()
    assert (stats.in_flight, stats.decode_bytes_reserved) == (4, 2 * estimate)
    assert len(decoding) == 2  # the other two wait for memory, not for a worker
    release.set()
    qtbot.waitUntil(lambda: len(outcomes) == 4, timeout=WAIT_MS)
    assert set(outcomes.values()) == {"ready"}
    stats = service.stats()
    assert (stats.decode_bytes_peak, stats.decode_bytes_reserved) == (2 * estimate, 0)


def test_a_file_over_the_whole_budget_fails_as_too_large_and_the_rest_still_load(
    make_service: MakeService, qtbot: Any, tmp_path: Path, huge_png: Path
) -> None:
    service = make_service(workers=2, decode_memory_bytes=100 * MB)
    outcomes = _outcomes(service)
    service.request(ThumbnailRequest.for_file(1, huge_png, GRID_SIZE))
    for media_id in range(2, 5):
        photo = write_jpeg(tmp_path / f"{media_id}.jpg", 640, 480)
        service.request(ThumbnailRequest.for_file(media_id, photo, GRID_SIZE))
    qtbot.waitUntil(lambda: len(outcomes) == 4, timeout=WAIT_MS)
    assert outcomes[1].startswith("too_large: Decoding needs about 2")
    assert outcomes[1].endswith("over the 100 MB decode budget")
    assert [outcomes[media_id] for media_id in range(2, 5)] == ["ready"] * 3
    assert service.stats().decode_bytes_peak <= 100 * MB


def test_shutdown_wakes_a_worker_waiting_for_memory_fault_injected(
    make_service: MakeService,
    qtbot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    release: threading.Event,
) -> None:
    """One decode holds the budget and blocks; the other worker sleeps in the budget when
    shutdown comes, and must wake up and end although the memory it waits for never comes."""
    source = tmp_path / "photo.png"
    Image.new("RGB", (800, 600), (200, 40, 40)).save(source)
    paths = _copies(source, tmp_path / "copies", 2)
    estimate = estimated_decode_bytes(paths[0].read_bytes(), GRID_SIZE)
    holders: list[threading.Thread] = []
    real_decode = maker_module.decode_bytes

    def decode_when_released(data: bytes, size_px: int, max_pixels: int) -> QImage:
        holders.append(threading.current_thread())
        release.wait(WAIT_MS / 1000)
        return real_decode(data, size_px, max_pixels)

    monkeypatch.setattr(maker_module, "decode_bytes", decode_when_released)
    service = make_service(workers=2, decode_memory_bytes=estimate + estimate // 2)
    for media_id, path in enumerate(paths):
        service.request(ThumbnailRequest.for_file(media_id, path, GRID_SIZE))
    qtbot.waitUntil(
        lambda: len(holders) == 1 and service.stats().decode_memory_waits == 1, timeout=WAIT_MS
    )
    waiters = [t for t in thumbnail_threads() if t is not holders[0]]
    assert len(waiters) == 1
    assert not service.shutdown(timeout_s=0)  # the holder is still blocked
    waiters[0].join(WAIT_MS / 1000)
    assert not waiters[0].is_alive()
    assert len(holders) == 1  # it gave its job up instead of decoding
    release.set()  # the fixture's shutdown() joins the holder
