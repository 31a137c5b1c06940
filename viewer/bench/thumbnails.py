"""The thumbnail part of the benchmark: throughput and the cache cap, with Qt imported lazily."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from viewer.bench.results import ThumbnailPass, ThumbnailsResult

ProgressCallback = Callable[[str, int, int], None]

# Under pressure, the memory cache gets room for this share of the thumbnails it is asked for.
PRESSURE_SHARE = 4
PASS_TIMEOUT_MS = 120_000


def _application() -> Any:
    """The running Qt application, or a new offscreen QGuiApplication (no display needed)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QGuiApplication

    app = QCoreApplication.instance()
    return app if app is not None else QGuiApplication([])


def run_thumbnails(
    files: Sequence[Path], threads: int | None, progress: ProgressCallback
) -> ThumbnailsResult:
    label = "Thumbnails"
    try:
        from viewer.thumbnails import bench as thumbnail_bench
    except ImportError as exc:  # the thumbnail feature is not in this build
        return ThumbnailsResult("pending", f"viewer.thumbnails.bench is not available: {exc}")
    app = _application()
    workers = threads or os.cpu_count() or 2
    progress(label, 0, 2)
    result = thumbnail_bench.run_thumbnail_benchmark(list(files), workers)
    progress(label, 1, 2)
    cache = _cache_under_pressure(files, workers, result.size_px)
    progress(label, 2, 2)
    del app  # kept alive until here: Qt objects above needed it
    passes = tuple(
        ThumbnailPass(
            name=name,
            seconds=p.seconds,
            per_second=p.per_second,
            first_ms=p.first_ms,
            delivered=p.delivered,
            failed=p.failed,
        )
        for name, p in (
            ("bare QImageReader loop", result.bare),
            ("cold (decode, write disk cache)", result.cold),
            ("warm disk (new service)", result.warm_disk),
            ("warm memory (same service)", result.warm_memory),
        )
    )
    return ThumbnailsResult(
        status="measured",
        detail=f"{result.files} distinct photo files, {result.size_px} px, {result.threads} "
        f"worker threads; cache cap checked with room for 1/{PRESSURE_SHARE} of them",
        files=result.files,
        threads=result.threads,
        size_px=result.size_px,
        passes=passes,
        cache_bytes=cache[0],
        cache_cap_bytes=cache[1],
        cache_evictions=cache[2],
    )


def _cache_under_pressure(
    files: Sequence[Path], workers: int, size_px: int
) -> tuple[int, int, int]:
    """Ask for every thumbnail with a memory cache too small for them all; returns the most
    bytes it held at any delivery, its cap, and its evictions."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtGui import QImage

    from viewer.thumbnails.cache import ThumbnailCache
    from viewer.thumbnails.service import ThumbnailRequest, ThumbnailService

    cap = max(1, len(files) // PRESSURE_SHARE) * size_px * size_px * 4
    cache = ThumbnailCache(cap_bytes=cap)
    service = ThumbnailService(cache, None, workers=workers)
    loop = QEventLoop()
    seen = {"answers": 0, "peak": 0}

    def answered(*_args: object) -> None:
        seen["answers"] += 1
        seen["peak"] = max(seen["peak"], cache.bytes)
        if seen["answers"] == len(files):
            loop.quit()

    def ready(_media_id: int, _size_px: int, _image: QImage) -> None:
        answered()

    service.thumbnail_ready.connect(ready)
    service.thumbnail_failed.connect(answered)
    try:
        for media_id, path in enumerate(files):
            if service.request(ThumbnailRequest.for_file(media_id, path, size_px)) is not None:
                answered()
        if seen["answers"] < len(files):
            QTimer.singleShot(PASS_TIMEOUT_MS, loop.quit)
            started = time.perf_counter()
            loop.exec()
            if seen["answers"] < len(files):
                raise TimeoutError(
                    f"thumbnails: {len(files) - seen['answers']} of {len(files)} not answered "
                    f"after {time.perf_counter() - started:.0f} s"
                )
        stats = cache.stats()
    finally:
        service.shutdown()
    return max(seen["peak"], stats.bytes), stats.cap_bytes, stats.evictions
