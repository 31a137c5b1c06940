"""`bench media`: photos in a bucket behind the delay proxy, the grid's thumbnails timed.

Each run is a fresh client (a new S3Store and ThumbnailService, an empty local cache unless it
is the warm run) asking for every photo's thumbnail at once, the first screenful as visible,
as the grid does when an inspection is selected. The photos are the demo's, each made a
distinct file (a unique tail after the JPEG's end), so nothing is shared between rows.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import obstore
from obstore.store import S3Store as ObstoreS3
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QGuiApplication, QImage

from db.demo.pool import ensure_photo_pool
from db.demo.spec import DemoSpec
from db.progress import ProgressCallback
from db.storage import LocalStore
from db.storage.s3 import S3Store
from db.storage.s3_config import S3Location
from viewer.bench.machine import StealMeter
from viewer.bench.proxy import LOOPBACK, DelayProxy, Upstream
from viewer.thumbnails.cache import MIB, ThumbnailCache
from viewer.thumbnails.service import GRID_SIZE, ThumbnailRequest, ThumbnailService

RUN_TIMEOUT_S = 900.0
TIER_DRAIN_S = 120.0
ORIGINALS, TIER_BUILD, TIER, WARM = "originals", "tier_build", "tier", "warm"
TITLES = {
    ORIGINALS: "originals only",
    TIER_BUILD: "tier: 1st client builds",
    TIER: "tier: 2nd client",
    WARM: "warm local cache",
}


@dataclass(frozen=True, slots=True)
class BenchPhoto:
    media_id: int
    key: str
    sha256: str
    base: int  # which base photo
    size: int


@dataclass(frozen=True, slots=True)
class RunResult:
    name: str
    photos: int
    first_visible_ms: float | None
    all_visible_ms: float | None
    grid_ms: float | None
    failed: int
    bytes_transferred: int
    peak_in_flight: int
    fetch_cap: int
    cache_peak_bytes: int
    cache_cap_bytes: int
    tier_hits: int
    tier_published: int
    tier_dropped: int  # not published: the writer's queue was full
    cpu_steal_pct: float | None = None  # of the machine's CPU time, taken by the host


@dataclass(frozen=True)
class Photos:
    bases: list[bytes]
    photos: list[BenchPhoto]

    def data(self, photo: BenchPhoto) -> bytes:
        return self.bases[photo.base] + f"IV-BENCH-{photo.media_id:06d}".encode()

    @property
    def total_bytes(self) -> int:
        return sum(p.size for p in self.photos)


def make_photos(count: int, folder: Path, progress: ProgressCallback) -> Photos:
    """`count` distinct photo files from the demo's pool (encoded once into `folder`)."""
    pool = ensure_photo_pool(LocalStore(folder), DemoSpec(), DemoSpec().seed, progress)
    bases = [(folder / p.storage_key).read_bytes() for p in pool]
    photos = []
    for number in range(count):
        base = number % len(bases)
        data = bases[base] + f"IV-BENCH-{number + 1:06d}".encode()
        sha = hashlib.sha256(data).hexdigest()
        photos.append(BenchPhoto(number + 1, f"bench/{number + 1:06d}.jpg", sha, base, len(data)))
    return Photos(bases, photos)


def upload(client: ObstoreS3, photos: Photos, progress: ProgressCallback) -> None:
    done = [0]

    def put(photo: BenchPhoto) -> None:
        obstore.put(client, photo.key, photos.data(photo))
        done[0] += 1
        progress("Uploading photos", done[0], len(photos.photos))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, photos.photos))


@dataclass(frozen=True)
class Setup:
    location: S3Location  # reached through the proxy
    proxy: DelayProxy
    fetch_cap: int
    cache_bytes: int
    visible: int


def proxy_for(endpoint_host: str, port: int, rtt_ms: float, mbit: float) -> DelayProxy:
    return DelayProxy(Upstream(host=endpoint_host, port=port), rtt_ms, bandwidth_mbit=mbit)


def proxied(location: S3Location, proxy: DelayProxy) -> S3Location:
    return location.with_endpoint(f"http://{LOOPBACK}:{proxy.port}")


def run_scenario(
    name: str, setup: Setup, photos: Photos, cache_dir: Path, *, tier_writes: bool
) -> RunResult:
    """One client's grid: every thumbnail requested at once, the first screen visible."""
    app = QGuiApplication.instance()
    assert app is not None
    store = S3Store(
        setup.location,
        cache_dir,
        cache_bytes=setup.cache_bytes,
        max_in_flight=setup.fetch_cap,
        tier_writes=tier_writes,
    )
    service = ThumbnailService(ThumbnailCache(1024 * MIB), None, workers=setup.fetch_cap)
    arrived: dict[int, float] = {}
    failed: set[int] = set()
    # The client's loop sleeps until something arrives, as the app's does (a loop polling
    # processEvents kept one of the two cores busy and slowed the workers it measured).
    loop = QEventLoop()

    def ready(media_id: int, _size: int, _image: QImage) -> None:
        arrived.setdefault(media_id, time.perf_counter())
        if len(arrived) == len(photos.photos):
            loop.quit()

    def broken(media_id: int, _size: int, _kind: str, _reason: str) -> None:
        failed.add(media_id)
        ready(media_id, _size, QImage())

    service.thumbnail_ready.connect(ready)
    service.thumbnail_failed.connect(broken)
    before = setup.proxy.stats.bytes_to_client + setup.proxy.stats.bytes_to_server
    steal = StealMeter()
    started = time.perf_counter()
    try:
        for index, photo in enumerate(photos.photos):
            request = ThumbnailRequest(photo.media_id, store, photo.key, photo.sha256, GRID_SIZE)
            service.request(request, visible=index < setup.visible)
        if len(arrived) < len(photos.photos):
            timeout = QTimer(loop)
            timeout.setSingleShot(True)
            timeout.timeout.connect(loop.quit)
            timeout.start(int(RUN_TIMEOUT_S * 1000))
            loop.exec()
        transferred = setup.proxy.stats.bytes_to_client + setup.proxy.stats.bytes_to_server
        stolen = steal.percent()
        if tier_writes:  # the tier is complete before the next client starts
            store.drain_tier(TIER_DRAIN_S)
    finally:
        service.shutdown()
        service.deleteLater()
        store.close()
    visible_ids = [p.media_id for p in photos.photos[: setup.visible]]
    stats, cache = store.stats(), store.cache.stats()
    return RunResult(
        name=name,
        photos=len(photos.photos),
        first_visible_ms=_ms(
            min((arrived[m] for m in visible_ids if m in arrived), default=None), started
        ),
        all_visible_ms=_ms(
            max(arrived[m] for m in visible_ids)
            if all(m in arrived for m in visible_ids)
            else None,
            started,
        ),
        grid_ms=_ms(max(arrived.values()) if len(arrived) == len(photos.photos) else None, started),
        failed=len(failed),
        bytes_transferred=transferred - before,
        peak_in_flight=stats.peak_in_flight,
        fetch_cap=stats.max_in_flight,
        cache_peak_bytes=cache.peak_bytes,
        cache_cap_bytes=cache.max_bytes,
        tier_hits=stats.tier_hits,
        tier_published=stats.tier_published,
        tier_dropped=stats.tier_dropped,
        cpu_steal_pct=stolen,
    )


def _ms(moment: float | None, started: float) -> float | None:
    return None if moment is None else (moment - started) * 1000


def scratch_folder() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="inspection-viewer-bench-media-")
