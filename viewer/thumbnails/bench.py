"""Thumbnail throughput and first-thumbnail latency, against a bare loop of scaled decodes."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, QSize, QTimer
from PySide6.QtGui import QGuiApplication, QImage, QImageReader, QPixmap

from viewer.thumbnails.cache import ThumbnailCache
from viewer.thumbnails.disk_cache import DiskThumbnailCache
from viewer.thumbnails.service import GRID_SIZE, ThumbnailRequest, ThumbnailService

# A pass that has not finished by then is stuck, not slow.
PASS_TIMEOUT_MS = 600_000


@dataclass(frozen=True, slots=True)
class PassResult:
    """One run over all files: thumbnails per second, and request-to-first-thumbnail time."""

    seconds: float  # request of the first to delivery of the last, on the GUI thread
    per_second: float
    first_ms: float
    delivered: int
    failed: int
    # Until the workers were idle: for a cold pass, the disk writes deferred past delivery.
    settled_seconds: float


@dataclass(frozen=True, slots=True)
class ThumbnailBenchResult:
    files: int
    threads: int
    size_px: int
    bare: PassResult
    cold: PassResult  # empty memory and disk cache: every original decoded (and stored)
    warm_disk: PassResult  # a new service (a second launch): every thumbnail from disk
    warm_memory: PassResult  # the same service again: every thumbnail from memory

    @property
    def cold_vs_bare(self) -> float:
        return self.cold.per_second / self.bare.per_second if self.bare.per_second else 0.0


def run_thumbnail_benchmark(
    files: Sequence[Path],
    threads: int,
    cache_dir: Path | None = None,
    size_px: int = GRID_SIZE,
) -> ThumbnailBenchResult:
    """Run on the GUI thread of a QGuiApplication (offscreen is fine), which must exist.

    `cache_dir` gets a fresh disk cache folder (a temporary one if None). Files are read once
    first, so every pass finds them in the OS page cache and none pays for the disk alone.
    """
    if QCoreApplication.instance() is None:
        raise RuntimeError("run_thumbnail_benchmark needs a QGuiApplication")
    if not files:
        raise ValueError("no files to benchmark")
    for path in files:
        path.read_bytes()
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix="thumbnail-bench-") as folder:
        disk = DiskThumbnailCache(Path(folder))
        bare = _bare_pass(files, threads, size_px)
        cold_service = ThumbnailService(ThumbnailCache(), disk, workers=threads)
        try:
            cold = _service_pass(cold_service, files, size_px)
        finally:
            cold_service.shutdown()
        warm_service = ThumbnailService(ThumbnailCache(), disk, workers=threads)
        try:
            warm_disk = _service_pass(warm_service, files, size_px)
            warm_memory = _service_pass(warm_service, files, size_px)
        finally:
            warm_service.shutdown()
    return ThumbnailBenchResult(
        files=len(files),
        threads=threads,
        size_px=size_px,
        bare=bare,
        cold=cold,
        warm_disk=warm_disk,
        warm_memory=warm_memory,
    )


def _bare_decode(path: Path, size_px: int) -> QImage:
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    long_edge = max(size.width(), size.height())
    if long_edge > size_px:
        scale = size_px / long_edge
        reader.setScaledSize(QSize(round(size.width() * scale), round(size.height() * scale)))
    return reader.read()


def _bare_pass(files: Sequence[Path], threads: int, size_px: int) -> PassResult:
    started = time.perf_counter()
    first_ms = 0.0
    failed = 0
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for image in pool.map(lambda path: _bare_decode(path, size_px), files):
            if not first_ms:
                first_ms = (time.perf_counter() - started) * 1000
            failed += image.isNull()
    seconds = time.perf_counter() - started
    return PassResult(seconds, len(files) / seconds, first_ms, len(files) - failed, failed, seconds)


def _service_pass(service: ThumbnailService, files: Sequence[Path], size_px: int) -> PassResult:
    # Making the QPixmap is part of showing a thumbnail; it needs a QGuiApplication.
    make_pixmap = isinstance(QCoreApplication.instance(), QGuiApplication)
    loop = QEventLoop()
    first: list[float] = []
    outcomes = {"delivered": 0, "failed": 0}
    total = len(files)

    def arrived(image: QImage | None) -> None:
        if image is not None and make_pixmap:
            QPixmap.fromImage(image)
        if not first:
            first.append(time.perf_counter())
        outcomes["delivered" if image is not None else "failed"] += 1
        if outcomes["delivered"] + outcomes["failed"] == total:
            loop.quit()

    def ready(_media_id: int, _size_px: int, image: QImage) -> None:
        arrived(image)

    def failed(_media_id: int, _size_px: int, _kind: str, _reason: str) -> None:
        arrived(None)

    service.thumbnail_ready.connect(ready)
    service.thumbnail_failed.connect(failed)
    service.begin_generation()
    started = time.perf_counter()
    try:
        for media_id, path in enumerate(files):
            image = service.request(ThumbnailRequest.for_file(media_id, path, size_px))
            if image is not None:
                arrived(image)
        if outcomes["delivered"] + outcomes["failed"] < total:
            QTimer.singleShot(PASS_TIMEOUT_MS, loop.quit)
            loop.exec()
    finally:
        service.thumbnail_ready.disconnect(ready)
        service.thumbnail_failed.disconnect(failed)
    seconds = time.perf_counter() - started
    _wait_idle(service)
    settled = time.perf_counter() - started
    first_ms = (first[0] - started) * 1000 if first else float("nan")
    delivered, failed_count = outcomes["delivered"], outcomes["failed"]
    return PassResult(seconds, total / seconds, first_ms, delivered, failed_count, settled)


def _wait_idle(service: ThumbnailService) -> None:
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(1)

    def check() -> None:
        if service.is_idle():
            loop.quit()

    poll.timeout.connect(check)
    poll.start()
    QTimer.singleShot(PASS_TIMEOUT_MS, loop.quit)
    if not service.is_idle():
        loop.exec()
    poll.stop()
