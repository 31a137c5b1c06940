"""S3Store: photos in an S3-compatible bucket, through obstore, with a local download cache and
the team-wide thumbnail tier (``thumbnails/<px>/<sha256>.jpg`` in the same bucket/prefix).

Every request goes through one gate: at most `max_in_flight` at a time (the fetch cap), counted
and classified once (db.storage.s3_errors). obstore retries transient failures (5xx, dropped
connections, timeouts) with exponential backoff and jitter within `retry_timeout_s`. A server
that did not answer at all makes the next calls fail fast for `cooldown_s`, so a grid of a
thousand photos shows "not answering" at once instead of a thousand timeouts; the first call
after that tries again, so a server that is back is used again without a restart.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import obstore
from obstore.store import S3Store as ObstoreS3

from db.config import os_error_text
from db.storage.base import (
    MediaForbidden,
    MediaMissing,
    MediaStore,
    MediaTooLarge,
    ObjectInfo,
    StorageError,
    StoreReadOnly,
    StoreUnreachable,
    check_key,
)
from db.storage.download_cache import DEFAULT_CACHE_BYTES, DownloadCache
from db.storage.s3_config import S3Location
from db.storage.s3_errors import classify
from db.storage.tier_writer import DEFAULT_QUEUE_BYTES, TierWriter

if TYPE_CHECKING:
    from obstore.store import ClientConfig, RetryConfig, S3Config

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MAX_IN_FLIGHT = 16
# The tier's sizes: a request is served by the smallest at least its size (grid 96-384 px).
TIER_SIZES = (256, 512)
TIER_PREFIX = "thumbnails"
# A tier object is untrusted input too: anything bigger is ignored (ours are 10-60 KB).
TIER_MAX_BYTES = 1024 * 1024
# No original is downloaded past this (the decoder refuses more than 256 MB anyway).
MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024
# A tier object found absent is not asked for again this long (another client may add it).
TIER_ABSENT_TTL_S = 60.0
DOWNLOAD_CHUNK_BYTES = 1024 * 1024
# Fetched tier thumbnails waiting to be written to the local cache, at most.
KEEPER_BYTES = 32 * 1024 * 1024
KEEPER_NICENESS = 15
_SHA256 = re.compile(r"[0-9a-f]{64}")


def tier_key(size_px: int, sha256: str) -> str:
    return f"{TIER_PREFIX}/{size_px}/{sha256}.jpg"


def tier_size_for(size_px: int) -> int | None:
    return next((px for px in TIER_SIZES if px >= size_px), None)


@dataclass(frozen=True, slots=True)
class S3Stats:
    requests: int
    in_flight: int
    peak_in_flight: int  # never more than max_in_flight
    max_in_flight: int
    bytes_received: int
    bytes_sent: int
    fast_failures: int  # refused without a request while the server was not answering
    tier_hits: int
    tier_misses: int
    tier_published: int
    tier_writes: bool  # False once the bucket refused one
    tier_dropped: int  # offered while the publishing queue was full: not published
    keeper_dropped: int  # fetched from the tier while its writer was full: not kept locally


class S3Store(MediaStore):
    """Thread-safe; the blocking methods are called from thumbnail workers and exports."""

    writable = True

    def __init__(
        self,
        location: S3Location,
        cache_dir: Path,
        *,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        connect_timeout_s: float = 3.0,
        request_timeout_s: float = 60.0,
        retry_timeout_s: float = 8.0,
        max_retries: int = 3,
        cooldown_s: float = 2.0,
        tier_writes: bool = True,
        tier_queue_bytes: int = DEFAULT_QUEUE_BYTES,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError(f"need at least one request in flight, got {max_in_flight}")
        self.location = location
        self.display = location.display
        self.max_in_flight = max_in_flight
        self.cache = DownloadCache(cache_dir / _cache_folder(location), cache_bytes)
        self._client = make_client(
            location, connect_timeout_s, request_timeout_s, retry_timeout_s, max_retries
        )
        self._cooldown_s = cooldown_s
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._lock = threading.Lock()
        self._downloading: dict[str, threading.Event] = {}
        self._down_until = 0.0
        self._down_reason = ""
        self._requests = self._in_flight = self._peak = 0
        self._received = self._sent = self._fast_failures = 0
        self._tier_hits = self._tier_misses = self._tier_published = 0
        self._tier_reads = True
        self._tier_writes = tier_writes
        self._tier_present: set[tuple[int, str]] = set()
        self._tier_absent: dict[tuple[int, str], float] = {}
        self._writer: TierWriter[tuple[int, str, bytes]] = TierWriter(
            self._publish, lambda item: len(item[2]), max_bytes=tier_queue_bytes
        )
        # Writes fetched tier thumbnails to the local cache: one thread, nicer than the
        # workers waiting for thumbnails (past its byte cap a thumbnail is not kept, and is
        # fetched again next time).
        self._keeper: TierWriter[tuple[str, bytes]] = TierWriter(
            self._keep,
            lambda item: len(item[1]),
            threads=1,
            max_bytes=KEEPER_BYTES,
            niceness=KEEPER_NICENESS,
        )

    # --- MediaStore -----------------------------------------------------------------------

    def describe(self, key: str) -> str:
        return f"{self.location.url.rstrip('/')}/{key}"

    def stat(self, key: str) -> ObjectInfo:
        check_key(key)
        meta = self._call(key, lambda: obstore.head(self._client, key))
        return ObjectInfo(key, int(meta["size"]), meta["last_modified"].timestamp())

    def read(self, key: str, max_bytes: int | None = None) -> bytes:
        check_key(key)
        cached = self.cache.get(key)
        if cached is not None and (max_bytes is None or cached.stat().st_size <= max_bytes):
            return cached.read_bytes()

        return self._call(key, lambda: self._fetch(key, max_bytes))

    def read_range(self, key: str, start: int, length: int) -> bytes:
        if start < 0 or length < 0:
            raise ValueError("start and length must not be negative")
        check_key(key)
        if length == 0:
            return b""
        data = self._call(
            key, lambda: bytes(obstore.get_range(self._client, key, start=start, length=length))
        )
        self._count(received=len(data))
        return data

    def local_path(self, key: str) -> Path:
        """The object in the local cache, downloaded first if need be (one download per key
        at a time: a second worker asking waits for the first)."""
        return self._cached(key, MAX_DOWNLOAD_BYTES)

    def ready_thumbnail(self, sha256: str, size_px: int) -> Path | None:
        """The tier's thumbnail of this photo, if the bucket has one that serves `size_px`."""
        return self._from_tier(sha256, size_px, lambda key: self._cached(key, TIER_MAX_BYTES))

    def ready_thumbnail_data(self, sha256: str, size_px: int) -> bytes | None:
        """As ready_thumbnail, in memory: a fetched one is written to the local cache by a
        background thread (a file created and renamed per thumbnail cost the grid ~1 ms each
        on ext4, in the worker that was waiting for it)."""
        return self._from_tier(sha256, size_px, self._tier_bytes)

    def _from_tier(self, sha256: str, size_px: int, fetch: Callable[[str], T]) -> T | None:
        px = tier_size_for(size_px)
        if px is None or not self._tier_reads or not _SHA256.fullmatch(sha256):
            return None
        key = tier_key(px, sha256)
        with self._lock:
            seen = self._tier_absent.get((px, sha256))
            if seen is not None and time.monotonic() - seen < TIER_ABSENT_TTL_S:
                return None
        try:
            found = fetch(key)
        except MediaMissing:
            with self._lock:
                self._tier_absent[(px, sha256)] = time.monotonic()
                self._tier_misses += 1
            return None
        except MediaForbidden as exc:  # a policy that allows the photos but not the tier
            self._tier_off(reads=True, why=exc.reason)
            return None
        except MediaTooLarge as exc:  # hostile or foreign: decode the original instead
            log.warning("ignoring the tier thumbnail %s: %s", key, exc.reason)
            return None
        with self._lock:
            self._tier_present.add((px, sha256))
            self._tier_hits += 1
        return found

    def _tier_bytes(self, key: str) -> bytes:
        cached = self.cache.get(key)
        if cached is not None:
            try:
                return cached.read_bytes()
            except OSError:  # removed behind our back: fetch it again
                pass
        data = self._call(key, lambda: self._fetch(key, TIER_MAX_BYTES))
        self._keeper.submit((key, data))
        return data

    def tier_size(self, size_px: int) -> int | None:
        return tier_size_for(size_px)

    def wants_thumbnail(self, sha256: str, size_px: int) -> bool:
        with self._lock:
            return (
                self._tier_writes
                and size_px in TIER_SIZES
                and _SHA256.fullmatch(sha256) is not None
                and (size_px, sha256) not in self._tier_present
            )

    def offer_thumbnail(self, sha256: str, size_px: int, data: bytes) -> None:
        """Publish a thumbnail to the tier in the background (dropped if the writer is busy)."""
        if len(data) > TIER_MAX_BYTES or not self.wants_thumbnail(sha256, size_px):
            return
        with self._lock:
            self._tier_present.add((size_px, sha256))
        if not self._writer.submit((size_px, sha256, data)):
            with self._lock:
                self._tier_present.discard((size_px, sha256))

    def write(self, key: str, data: bytes) -> None:
        check_key(key)
        self._call(key, lambda: obstore.put(self._client, key, data))
        self._count(sent=len(data))
        self.cache.forget(key)

    def delete(self, key: str) -> None:
        check_key(key)
        self._call(key, lambda: obstore.delete(self._client, key))
        self.cache.forget(key)

    def list_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object below `prefix` (relative to the store's own prefix), page by page."""
        pages = self._call(
            prefix, lambda: obstore.list(self._client, prefix or None, chunk_size=1000)
        )
        while True:
            page = self._call(prefix, lambda: next(pages, None))
            if page is None:
                return
            for meta in page:
                yield ObjectInfo(meta["path"], int(meta["size"]), meta["last_modified"].timestamp())

    def drain_tier(self, timeout_s: float) -> bool:
        """Wait for the thumbnails offered so far to be published (benchmarks, tests)."""
        return self._writer.drain(timeout_s)

    def close(self) -> None:
        self._writer.close()
        self._keeper.close()

    def stats(self) -> S3Stats:
        with self._lock:
            return S3Stats(
                self._requests,
                self._in_flight,
                self._peak,
                self.max_in_flight,
                self._received,
                self._sent,
                self._fast_failures,
                self._tier_hits,
                self._tier_misses,
                self._tier_published,
                self._tier_writes,
                self._writer.dropped,
                self._keeper.dropped,
            )

    # --- inside ---------------------------------------------------------------------------

    def _call(self, key: str, request: Callable[[], T]) -> T:
        """One request through the gate: fast failure while the server is down, the fetch
        cap, the counters, and the one classification of what went wrong."""
        with self._lock:
            if time.monotonic() < self._down_until:
                self._fast_failures += 1
                raise StoreUnreachable(key, self._down_reason)
        with self._slots:
            with self._lock:
                self._requests += 1
                self._in_flight += 1
                self._peak = max(self._peak, self._in_flight)
            try:
                result = request()
            except StorageError:
                raise
            except Exception as exc:
                classified = classify(exc, key, self.location.server)
                if classified.server_down:
                    with self._lock:
                        self._down_until = time.monotonic() + self._cooldown_s
                        self._down_reason = classified.error.reason
                raise classified.error from None
            finally:
                with self._lock:
                    self._in_flight -= 1
        with self._lock:
            self._down_until = 0.0
        return result

    def _cached(self, key: str, limit: int) -> Path:
        check_key(key)
        path = self.cache.get(key)
        if path is not None:
            return path
        with self._lock:
            running = self._downloading.get(key)
            if running is None:
                self._downloading[key] = threading.Event()
        if running is not None:  # another worker is downloading it: share its result
            running.wait(self._cooldown_s + 120.0)
            path = self.cache.get(key)
            if path is not None:
                return path
            return self._call(key, lambda: self._download(key, limit))
        try:
            return self._call(key, lambda: self._download(key, limit))
        finally:
            with self._lock:
                self._downloading.pop(key).set()

    def _download(self, key: str, limit: int) -> Path:
        result = obstore.get(self._client, key)
        size = int(result.meta["size"])
        if size > limit:
            raise MediaTooLarge(
                key, f"Object of {size / 1e6:.1f} MB is over the {limit / 1e6:.1f} MB limit"
            )
        with self.cache.download(key, size) as (partial, final):
            received = 0
            try:
                with partial.open("wb") as file:
                    for chunk in result.stream(min_chunk_size=DOWNLOAD_CHUNK_BYTES):
                        received += len(chunk)
                        if received > size:
                            break
                        file.write(chunk)
            except OSError as exc:  # the local disk, not the server
                raise StoreUnreachable(
                    key, f"Cannot keep the download: {os_error_text(exc, partial.parent)}"
                ) from None
            finally:
                self._count(received=received)
            if received != size:
                raise self._cut_short(key, received, size)
            os.replace(partial, final)
        return final

    def _fetch(self, key: str, max_bytes: int | None) -> bytes:
        """One GET into memory (inside `_call`)."""
        result = obstore.get(self._client, key)
        size = int(result.meta["size"])
        if max_bytes is not None and size > max_bytes:
            raise MediaTooLarge(
                key, f"File of {size / 1e6:.0f} MB is over the {max_bytes / 1e6:.0f} MB limit"
            )
        data = bytes(result.bytes())
        self._count(received=len(data))
        if len(data) != size:
            raise self._cut_short(key, len(data), size)
        return data

    def _keep(self, item: tuple[str, bytes]) -> None:
        """In the keeper's thread: a fetched tier thumbnail into the local cache."""
        key, data = item
        try:
            self.cache.add(key, data)
        except (OSError, StorageError) as exc:
            log.debug("thumbnail tier: %s not kept locally: %s", key, exc)

    def _cut_short(self, key: str, received: int, size: int) -> StoreUnreachable:
        return StoreUnreachable(
            key,
            f"Download from {self.location.server} was cut short ({received} of {size} bytes)",
        )

    def _publish(self, item: tuple[int, str, bytes]) -> None:
        """In the tier writer's thread: put one thumbnail; a refusal ends tier writes."""
        size_px, sha256, data = item
        if not self._tier_writes:
            return
        key = tier_key(size_px, sha256)
        try:
            self._call(key, lambda: obstore.put(self._client, key, data))
        except (MediaForbidden, StoreReadOnly) as exc:
            self._tier_off(reads=False, why=exc.reason)
            return
        except StorageError as exc:
            log.info("thumbnail tier: %s not written: %s", key, exc.reason)
            with self._lock:
                self._tier_present.discard((size_px, sha256))
            return
        self._count(sent=len(data))
        with self._lock:
            self._tier_published += 1
        try:
            self.cache.add(key, data)
        except (OSError, StorageError) as exc:
            log.debug("thumbnail tier: not kept locally: %s", exc)

    def _tier_off(self, *, reads: bool, why: str) -> None:
        with self._lock:
            was_on = self._tier_reads if reads else self._tier_writes
            if reads:
                self._tier_reads = False
            else:
                self._tier_writes = False
        if was_on:
            what = "reading" if reads else "writing"
            log.warning("team thumbnail tier: %s it is off for this session (%s)", what, why)

    def _count(self, *, received: int = 0, sent: int = 0) -> None:
        with self._lock:
            self._received += received
            self._sent += sent


def _cache_folder(location: S3Location) -> str:
    """One cache folder per bucket, prefix and server."""
    identity = f"{location.endpoint or ''}|{location.bucket}|{location.prefix}"
    return f"s3-{location.bucket[:40]}-{hashlib.sha256(identity.encode()).hexdigest()[:16]}"


def make_client(
    location: S3Location,
    connect_timeout_s: float,
    request_timeout_s: float,
    retry_timeout_s: float,
    max_retries: int,
) -> ObstoreS3:
    """obstore's client for `location`: keys, endpoint, timeouts and the retry policy."""
    config: S3Config = {"region": location.region}
    if location.endpoint:
        config["endpoint"] = location.endpoint
    credentials = location.credentials
    if credentials is not None:
        config["access_key_id"] = credentials.access_key_id
        config["secret_access_key"] = credentials.secret_access_key
        if credentials.session_token:
            config["session_token"] = credentials.session_token
    else:  # no keys anywhere: anonymous requests (a public bucket) rather than a metadata probe
        config["skip_signature"] = True
    client: ClientConfig = {
        "allow_http": bool(location.endpoint and location.endpoint.startswith("http://")),
        "connect_timeout": timedelta(seconds=connect_timeout_s),
        "timeout": timedelta(seconds=request_timeout_s),
    }
    retry: RetryConfig = {
        "max_retries": max_retries,
        "retry_timeout": timedelta(seconds=retry_timeout_s),
        "backoff": {
            "init_backoff": timedelta(milliseconds=100),
            "max_backoff": timedelta(seconds=2),
            "base": 2,
        },
    }
    return ObstoreS3(
        location.bucket,
        prefix=location.prefix or None,
        config=config,
        client_options=client,
        retry_config=retry,
    )
