"""S3Store against a real SeaweedFS: reads, the local cache, the fetch cap, and every fault a
user meets (wrong keys, a missing photo, a server down or cut short), each one clear message."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import obstore
import pytest

from db.storage import MediaForbidden, MediaMissing, MediaTooLarge, StoreUnreachable
from db.storage.s3 import TIER_MAX_BYTES, tier_key
from tests.integration.s3.buckets import (
    Photo,
    fresh_prefix,
    make_store,
    proxy_endpoint,
    upload,
)
from viewer.bench.proxy import DelayProxy
from viewer.bench.seaweed import SeaweedKeys, SeaweedServer, free_ports


def test_a_photo_is_downloaded_once_then_read_from_the_local_cache(
    seaweed: SeaweedServer, bucket_photos: list[Photo], tmp_path: Path
) -> None:
    prefix = fresh_prefix("cache")
    photo = bucket_photos[0]
    upload(seaweed, prefix, [photo])
    store = make_store(seaweed, prefix, tmp_path)
    try:
        path = store.local_path(photo.key)
        assert path.read_bytes() == photo.data
        assert store.read(photo.key) == photo.data
        assert store.read_range(photo.key, 2, 3) == photo.data[2:5]
        assert store.stat(photo.key).size == len(photo.data)
        requests = store.stats().requests
        assert store.local_path(photo.key) == path
        assert store.stats().requests == requests  # no request for a cached photo
    finally:
        store.close()


def test_a_missing_photo_says_so(seaweed: SeaweedServer, tmp_path: Path) -> None:
    store = make_store(seaweed, fresh_prefix("missing"), tmp_path)
    with pytest.raises(MediaMissing, match=r"Not in the bucket: demo/gone\.jpg"):
        store.local_path("demo/gone.jpg")
    assert store.cache.stats().files == 0


def test_wrong_keys_are_access_denied_without_showing_them(
    seaweed: SeaweedServer, bucket_photos: list[Photo], tmp_path: Path
) -> None:
    prefix = fresh_prefix("wrong-keys")
    upload(seaweed, prefix, bucket_photos[:1])
    wrong = SeaweedKeys(seaweed.keys.access_key_id, "not-the-secret-" + "x" * 20)
    store = make_store(seaweed, prefix, tmp_path, keys=wrong)
    with pytest.raises(MediaForbidden, match=r"Access denied by http://127\.0\.0\.1") as caught:
        store.local_path(bucket_photos[0].key)
    assert "not-the-secret" not in str(caught.value)
    assert seaweed.keys.secret_access_key not in str(caught.value)


def test_server_down_at_start_fails_fast_then_is_used_again_when_back_fault_injected(
    seaweed: SeaweedServer, bucket_photos: list[Photo], proxy: DelayProxy, tmp_path: Path
) -> None:
    prefix = fresh_prefix("down-at-start")
    photo = bucket_photos[0]
    upload(seaweed, prefix, [photo])
    proxy.set_down(True)
    store = make_store(seaweed, prefix, tmp_path, endpoint=proxy_endpoint(proxy), cooldown_s=30.0)
    with pytest.raises(StoreUnreachable, match="is not answering"):
        store.local_path(photo.key)
    # While it is down, the next photos fail at once instead of each waiting for retries.
    with pytest.raises(StoreUnreachable, match="is not answering"):
        store.local_path("demo/other.jpg")
    assert store.stats().fast_failures == 1
    proxy.set_down(False)
    store._down_until = 0.0  # the cool-down has passed (30 s here, so the check above holds)
    assert store.local_path(photo.key).read_bytes() == photo.data


def test_nothing_listening_is_unreachable(seaweed: SeaweedServer, tmp_path: Path) -> None:
    (port,) = free_ports(1)
    store = make_store(
        seaweed, "p", tmp_path, endpoint=f"http://127.0.0.1:{port}", retry_timeout_s=1.0
    )
    started = time.monotonic()
    with pytest.raises(StoreUnreachable, match=f"127.0.0.1:{port} is not answering"):
        store.stat("demo/a.jpg")
    assert time.monotonic() - started < 5


def test_a_truncated_answer_is_cut_short_and_nothing_is_cached_fault_injected(
    seaweed: SeaweedServer, bucket_photos: list[Photo], proxy: DelayProxy, tmp_path: Path
) -> None:
    prefix = fresh_prefix("truncated")
    photo = bucket_photos[0]
    upload(seaweed, prefix, [photo])
    proxy.truncate_answers_at = 1000  # headers and the start of the body
    store = make_store(
        seaweed, prefix, tmp_path, endpoint=proxy_endpoint(proxy), retry_timeout_s=1.0
    )
    with pytest.raises(StoreUnreachable, match="cut short"):
        store.local_path(photo.key)
    assert store.cache.stats().files == 0
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    proxy.truncate_answers_at = None
    assert store.local_path(photo.key).read_bytes() == photo.data


def test_a_slow_server_never_has_more_fetches_in_flight_than_the_cap(
    seaweed: SeaweedServer, bucket_photos: list[Photo], tmp_path: Path
) -> None:
    prefix = fresh_prefix("slow")
    upload(seaweed, prefix, bucket_photos)
    with DelayProxy(proxy_upstream(seaweed), rtt_ms=40, bandwidth_mbit=100) as slow:
        store = make_store(
            seaweed, prefix, tmp_path, endpoint=proxy_endpoint(slow), max_in_flight=3
        )
        with ThreadPoolExecutor(12) as pool:
            paths = list(pool.map(lambda p: store.local_path(p.key), bucket_photos))
    assert [p.read_bytes() for p in paths] == [p.data for p in bucket_photos]
    stats = store.stats()
    assert stats.peak_in_flight == 3  # the cap was reached and never passed
    assert stats.bytes_received == sum(len(p.data) for p in bucket_photos)


def test_the_cache_never_goes_over_its_byte_cap(
    seaweed: SeaweedServer, bucket_photos: list[Photo], tmp_path: Path
) -> None:
    prefix = fresh_prefix("cache-cap")
    upload(seaweed, prefix, bucket_photos)
    cap = 3 * max(len(p.data) for p in bucket_photos)
    store = make_store(seaweed, prefix, tmp_path, cache_bytes=cap)
    lock = threading.Lock()
    on_disk: list[int] = []

    def fetch(photo: Photo) -> None:
        assert store.local_path(photo.key).stat().st_size == len(photo.data)  # pinned: there
        with lock:
            on_disk.append(sum(_size_if_there(f) for f in tmp_path.rglob("*.jpg")))

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(fetch, bucket_photos))
    assert store.cache.stats().peak_bytes <= cap
    assert max(on_disk) <= cap
    assert store.cache.stats().evictions > 0


def _size_if_there(path: Path) -> int:
    """The size of a cached file, 0 if another fetch evicted it since the folder was listed."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def test_a_hostile_tier_object_is_ignored_and_the_original_used(
    seaweed: SeaweedServer, bucket_photos: list[Photo], tmp_path: Path
) -> None:
    prefix = fresh_prefix("hostile-tier")
    photo = bucket_photos[0]
    upload(seaweed, prefix, [photo])
    client = seaweed.client()
    obstore.put(client, f"{prefix}/{tier_key(256, photo.sha256)}", b"\0" * (TIER_MAX_BYTES + 1))
    store = make_store(seaweed, prefix, tmp_path)
    assert store.ready_thumbnail(photo.sha256, 256) is None
    assert store.ready_thumbnail("../../etc/passwd", 256) is None
    with pytest.raises(MediaTooLarge):
        make_store(seaweed, prefix, tmp_path / "small", cache_bytes=100).local_path(photo.key)


def proxy_upstream(server: SeaweedServer):  # type: ignore[no-untyped-def]
    from viewer.bench.proxy import Upstream

    return Upstream(host="127.0.0.1", port=server.s3_port)
