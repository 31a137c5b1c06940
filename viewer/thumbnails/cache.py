"""The in-memory thumbnail cache: least recently used first out, bounded in bytes of pixels."""

from __future__ import annotations

from collections import OrderedDict
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
        self._lru = _ByteLRU(cap_bytes, self._evicted)
        # The keys least recently used first, kept alongside: cachetools iterates in insertion
        # order and has no public view of its use order, and a copy of its cache shares the
        # internals on some releases (draining one emptied the live cache).
        self._recency: OrderedDict[ThumbnailKey, None] = OrderedDict()

    def _evicted(self, key: ThumbnailKey) -> None:
        self._evictions += 1
        self._recency.pop(key, None)

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
            self._recency.move_to_end(key)
        return image

    def put(self, key: ThumbnailKey, image: QImage) -> bool:
        """Store as most recently used, evicting the least recently used entries to make room.

        False when not stored: a null image, or one larger than the whole cap (caching it would
        flush everything else for one picture).
        """
        # A replacement is a new insertion: it must not count as an eviction nor keep the old
        # entry's place in the LRU order.
        self.discard(key)
        if image.isNull() or image_bytes(image) > self.cap_bytes:
            return False
        self._lru[key] = image  # evicts (through _evicted) until the image fits
        self._recency[key] = None
        return True

    def discard(self, key: ThumbnailKey) -> None:
        self._lru.pop(key, None)
        self._recency.pop(key, None)

    def set_cap_bytes(self, cap_bytes: int) -> None:
        """Change the cap (from settings) keeping the entries that fit, most recent first."""
        if cap_bytes < 0:
            raise ValueError(f"cache cap must not be negative, got {cap_bytes}")
        old = self._lru
        # Reading the old cache moves its entries in its own order; it is dropped next anyway.
        entries = [(key, old[key]) for key in self._recency]
        self._lru = _ByteLRU(cap_bytes, self._evicted)
        self._recency.clear()
        # Oldest first, so the newest end up most recently used and the oldest are evicted.
        for key, image in entries:
            self.put(key, image)

    def clear(self) -> None:
        """Drop every entry; the counters keep the session's history (dropping is no eviction)."""
        self._lru = _ByteLRU(self.cap_bytes, self._evicted)
        self._recency.clear()

    def __contains__(self, key: object) -> bool:
        return key in self._lru

    def __len__(self) -> int:
        return len(self._lru)

    def keys(self) -> Iterator[ThumbnailKey]:
        """Least recently used first (the next to be evicted)."""
        return iter(list(self._recency))

    def stats(self) -> CacheStats:
        return CacheStats(
            hits=self._hits,
            misses=self._misses,
            evictions=self._evictions,
            entries=len(self._lru),
            bytes=self.bytes,
            cap_bytes=self.cap_bytes,
        )
