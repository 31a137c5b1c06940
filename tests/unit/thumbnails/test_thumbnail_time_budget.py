"""The decode time budget: a stuck job is given up, its worker replaced, its late result dropped.

Faults are injected (a decoder that blocks on an event) and time is a fake clock the test moves
on: nothing here sleeps or measures time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtGui import QImage

from db.storage import LocalStore
from tests.fixtures_images import thumbnail_threads, write_jpeg
from viewer.thumbnails import maker as maker_module
from viewer.thumbnails.decode import estimated_decode_bytes
from viewer.thumbnails.service import GRID_SIZE, ThumbnailRequest, ThumbnailService

MakeService = Callable[..., ThumbnailService]
WAIT_MS = 20_000
BUDGET_S = 0.5


class FakeClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class StuckDecoder:
    """decode_bytes, except that the files in `stuck` block until `release` is set."""

    def __init__(self, release: threading.Event) -> None:
        self.release = release
        self.stuck: set[bytes] = set()
        self.entered: list[bytes] = []
        self._real = maker_module.decode_bytes

    def stick(self, path: Path) -> Path:
        self.stuck.add(path.read_bytes())
        return path

    def __call__(self, data: bytes, size_px: int, max_pixels: int) -> QImage:
        self.entered.append(data)
        if data in self.stuck:
            self.release.wait(WAIT_MS / 1000)
        return self._real(data, size_px, max_pixels)


@pytest.fixture
def release(make_service: MakeService) -> Iterator[threading.Event]:
    """Set at teardown too, before the services are shut down (this fixture depends on theirs),
    so a failing test still joins its workers."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def decoder(monkeypatch: pytest.MonkeyPatch, release: threading.Event) -> StuckDecoder:
    fake = StuckDecoder(release)
    monkeypatch.setattr(maker_module, "decode_bytes", fake)
    return fake


def _outcomes(service: ThumbnailService) -> dict[int, str]:
    seen: dict[int, str] = {}
    service.thumbnail_ready.connect(
        lambda media_id, size, image: seen.__setitem__(media_id, "ready")
    )
    service.thumbnail_failed.connect(
        lambda media_id, size, kind, reason: seen.__setitem__(media_id, f"{kind}: {reason}")
    )
    return seen


def _lost_threads() -> list[threading.Thread]:
    return [t for t in thumbnail_threads() if t.name.endswith("-lost")]


def test_a_stuck_decode_fault_injected_is_given_up_and_its_worker_replaced(
    make_service: MakeService,
    qtbot: Any,
    qapp: Any,
    tmp_path: Path,
    decoder: StuckDecoder,
    release: threading.Event,
) -> None:
    clock = FakeClock()
    service = make_service(workers=1, decode_timeout_s=BUDGET_S, clock=clock)
    outcomes = _outcomes(service)
    stuck = decoder.stick(write_jpeg(tmp_path / "stuck.jpg", 64, 48, seed=1))
    service.request(ThumbnailRequest.for_file(1, stuck, GRID_SIZE))
    qtbot.waitUntil(lambda: len(decoder.entered) == 1, timeout=WAIT_MS)

    with qtbot.waitSignal(service.thumbnail_failed, timeout=WAIT_MS) as blocker:
        clock.now += 1.0
    assert blocker.args == [1, GRID_SIZE, "too_large", "Took longer than 0.5 s"]

    # The only worker is still blocked; its replacement answers the next request.
    fine = write_jpeg(tmp_path / "fine.jpg", 64, 48)
    with qtbot.waitSignal(service.thumbnail_ready, timeout=WAIT_MS) as ready:
        service.request(ThumbnailRequest.for_file(2, fine, GRID_SIZE))
    assert ready.args[0] == 2
    stats = service.stats()
    assert (stats.workers, stats.workers_lost, stats.in_flight) == (1, 1, 0)
    assert dict(stats.errors) == {"too_large": 1}
    [lost] = _lost_threads()
    assert len(thumbnail_threads()) == 2

    # Its result, when it comes at last, is dropped: not delivered, not cached.
    release.set()
    lost.join(WAIT_MS / 1000)
    assert not lost.is_alive()
    qapp.processEvents()  # a late signal, had one been sent, would be delivered now
    assert outcomes == {1: "too_large: Took longer than 0.5 s", 2: "ready"}
    assert service.cache.get((1, GRID_SIZE)) is None
    assert service.stats().decodes == 1
    assert service.is_idle()


def test_the_same_photo_asked_again_after_a_timeout_fault_injected_is_decoded_anew(
    make_service: MakeService,
    qtbot: Any,
    tmp_path: Path,
    decoder: StuckDecoder,
    release: threading.Event,
) -> None:
    clock = FakeClock()
    service = make_service(workers=2, decode_timeout_s=BUDGET_S, clock=clock)
    photo = decoder.stick(write_jpeg(tmp_path / "slow-once.jpg", 64, 48))
    request = ThumbnailRequest.for_file(1, photo, GRID_SIZE)
    service.request(request)
    qtbot.waitUntil(lambda: len(decoder.entered) == 1, timeout=WAIT_MS)
    with qtbot.waitSignal(service.thumbnail_failed, timeout=WAIT_MS):
        clock.now += 1.0
    decoder.stuck.clear()
    with qtbot.waitSignal(service.thumbnail_ready, timeout=WAIT_MS) as ready:
        assert service.request(request) is None  # not coalesced with the job given up
    assert ready.args[0] == 1
    release.set()
    [lost] = _lost_threads()
    lost.join(WAIT_MS / 1000)
    assert service.stats().workers == 2


def test_the_memory_of_a_stuck_decode_fault_injected_is_written_off(
    make_service: MakeService,
    qtbot: Any,
    tmp_path: Path,
    decoder: StuckDecoder,
    release: threading.Event,
) -> None:
    """A budget with room for one decode, held by one that never ends: without the write-off,
    every later decode would wait for memory forever."""
    paths = []
    for name, green in (("stuck", 200), ("next", 100)):
        paths.append(tmp_path / f"{name}.png")
        Image.new("RGB", (800, 600), (20, green, 20)).save(paths[-1])
    estimates = [estimated_decode_bytes(path.read_bytes(), GRID_SIZE) for path in paths]
    budget = max(estimates) + min(estimates) // 2  # room for one decode at a time
    clock = FakeClock()
    service = make_service(
        workers=2,
        decode_timeout_s=BUDGET_S,
        clock=clock,
        decode_memory_bytes=budget,
    )
    outcomes = _outcomes(service)
    decoder.stick(paths[0])
    service.request(ThumbnailRequest.for_file(1, paths[0], GRID_SIZE))
    qtbot.waitUntil(lambda: len(decoder.entered) == 1, timeout=WAIT_MS)
    service.request(ThumbnailRequest.for_file(2, paths[1], GRID_SIZE))
    qtbot.waitUntil(lambda: service.stats().decode_memory_waits == 1, timeout=WAIT_MS)

    # The waiting worker's clock is stopped: only the stuck one is over its budget.
    clock.now += 1.0
    qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=WAIT_MS)
    assert outcomes == {1: "too_large: Took longer than 0.5 s", 2: "ready"}
    stats = service.stats()
    assert (stats.workers, stats.workers_lost) == (2, 1)
    assert stats.decode_bytes_reserved == 0
    assert stats.decode_bytes_peak <= budget

    assert not service.shutdown(timeout_s=0)  # the lost worker is still stuck
    release.set()
    assert service.shutdown()  # joined once released
    assert thumbnail_threads() == []
    assert service.stats().decode_bytes_reserved == 0  # its late release counts nothing


class HangingStore(LocalStore):
    """A folder whose files take until `release` to be found (a network store that hangs)."""

    def __init__(self, root: Path, release: threading.Event) -> None:
        super().__init__(root)
        self.release = release

    def local_path(self, key: str) -> Path:
        self.release.wait(WAIT_MS / 1000)
        return super().local_path(key)


def test_a_store_that_hangs_fault_injected_is_given_up_too(
    make_service: MakeService, qtbot: Any, tmp_path: Path, release: threading.Event
) -> None:
    clock = FakeClock()
    service = make_service(workers=1, decode_timeout_s=BUDGET_S, clock=clock)
    photo = write_jpeg(tmp_path / "far-away.jpg", 64, 48)
    service.request(ThumbnailRequest(1, HangingStore(tmp_path, release), photo.name))
    qtbot.waitUntil(lambda: service.stats().in_flight == 1, timeout=WAIT_MS)
    with qtbot.waitSignal(service.thumbnail_failed, timeout=WAIT_MS) as blocker:
        clock.now += 1.0
    assert blocker.args[2:] == ["too_large", "Took longer than 0.5 s"]
    release.set()
    [lost] = _lost_threads()
    lost.join(WAIT_MS / 1000)
    assert not lost.is_alive()
