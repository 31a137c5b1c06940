"""The in-memory thumbnail cache: least recently used first out, bounded in bytes of pixels."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cachetools import LRUCache
from PySide6.QtGui import QImage

# (media id, requested long edge in pixels): one media item has one entry per size shown.
ThumbnailKey = tuple[int, int]

MIB = 1024 * 1024
DEFAULT_CAP_BYTES = 128 * MIB


def image_bytes(image: QImage) -> int:
    return image.sizeInBytes()


@dataclass(frozen=True, slots=True)
class CacheStats:
    hits: int
    misses: int
    evictions: int
    entries: int
    bytes: int
    cap_bytes: int

    @property
    def hit_rate(self) -> float:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class _ByteLRU(LRUCache[ThumbnailKey, QImage]):
    """cachetools' LRU telling its owner of each eviction (replacing or deleting is not one)."""

    def __init__(self, cap_bytes: int, on_evict: Callable[[ThumbnailKey], None]) -> None:
        super().__init__(maxsize=cap_bytes, getsizeof=image_bytes)
        self._on_evict = on_evict

    def popitem(self) -> tuple[ThumbnailKey, QImage]:
        # cachetools calls popitem() only to make room, so this is exactly the eviction path.
        key, image = super().popitem()
        self._on_evict(key)
        return key, image


def _lru_order(lru: _ByteLRU) -> list[tuple[ThumbnailKey, QImage]]:
    """Entries least recently used first, without touching the cache or its counters."""
    # Iterating a cachetools cache gives insertion order, not use order; only popitem() knows
    # the latter, so drain a copy with the base class's popitem (no eviction callback).
    drained = copy.copy(lru)
    entries = []
    while drained:
        entries.append(LRUCache.popitem(drained))
    return entries


class ThumbnailCache:
    """Decoded thumbnails by (media id, size), for the GUI thread only (it takes no lock).

    QImage shares its pixels implicitly, so an image handed out stays valid after its eviction;
    the cap counts what the cache itself keeps alive.
    """

    def __init__(self, cap_bytes: int = DEFAULT_CAP_BYTES) -> None:
        if cap_bytes < 0:
            raise ValueError(f"cache cap must not be negative, got {cap_bytes}")
        self._hits = 0
        self._misses = 0
        self._evictions = 0
        self._lru = _ByteLRU(cap_bytes, self._count_eviction)

    def _count_eviction(self, _key: ThumbnailKey) -> None:
        self._evictions += 1

    @property
    def cap_bytes(self) -> int:
        return int(self._lru.maxsize)

    @property
    def bytes(self) -> int:
        return int(self._lru.currsize)

    def get(self, key: ThumbnailKey) -> QImage | None:
        """The image, now the most recently used; None (a miss) if absent."""
        image = self._lru.get(key)
        if image is None:
            self._misses += 1
        else:
            self._hits += 1
        return image

    def put(self, key: ThumbnailKey, image: QImage) -> bool:
        """Store as most recently used, evicting the least recently used entries to make room.

        False when not stored: a null image, or one larger than the whole cap (caching it would
        flush everything else for one picture).
        """
        # A replacement is a new insertion: it must not count as an eviction nor keep the old
        # entry's place in the LRU order.
        self._lru.pop(key, None)
        if image.isNull() or image_bytes(image) > self.cap_bytes:
            return False
        self._lru[key] = image
        return True

    def discard(self, key: ThumbnailKey) -> None:
        self._lru.pop(key, None)

    def set_cap_bytes(self, cap_bytes: int) -> None:
        """Change the cap (from settings) keeping the entries that fit, most recent first."""
        if cap_bytes < 0:
            raise ValueError(f"cache cap must not be negative, got {cap_bytes}")
        entries = _lru_order(self._lru)
        self._lru = _ByteLRU(cap_bytes, self._count_eviction)
        # Oldest first, so the newest end up most recently used and the oldest are evicted.
        for key, image in entries:
            self.put(key, image)

    def clear(self) -> None:
        """Drop every entry; the counters keep the session's history."""
        self._lru.clear()

    def __contains__(self, key: object) -> bool:
        return key in self._lru

    def __len__(self) -> int:
        return len(self._lru)

    def keys(self) -> Iterator[ThumbnailKey]:
        """Least recently used first (the next to be evicted)."""
        return iter([key for key, _ in _lru_order(self._lru)])

    def stats(self) -> CacheStats:
        return CacheStats(
            hits=self._hits,
            misses=self._misses,
            evictions=self._evictions,
            entries=len(self._lru),
            bytes=self.bytes,
            cap_bytes=self.cap_bytes,
        )
