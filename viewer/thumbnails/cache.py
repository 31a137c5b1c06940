"""The in-memory thumbnail cache: least recently used first out, bounded in bytes of pixels.

The thumbnails at the top of an opened inspection's grid are kept ahead of that order, in a
protected share of the same cap: scrolling through thousands of another inspection's photos
does not push them out, so going back to an inspection shows its first screen at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from cachetools import LRUCache
from PySide6.QtGui import QImage

# (media id, requested long edge in pixels): one media item has one entry per size shown.
ThumbnailKey = tuple[int, int]

MIB = 1024 * 1024
DEFAULT_CAP_BYTES = 128 * MIB
# The protected thumbnails (see protect()) hold at most this share of the cap; beyond it the
# least recently used go back to the common order. 1/8 of 128 MB holds the first screens of the
# ten or so inspections opened last, at the default size and window (22 thumbnails of 77 KB).
PROTECTED_SHARE = 8
# The keys protect() remembers for thumbnails that have not arrived yet.
MAX_PROTECTED_KEYS = 4096


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
        # Protected entries, least recently used first, outside the LRU above; their bytes
        # count against the same cap (the LRU gives way when they grow).
        self._protected: OrderedDict[ThumbnailKey, QImage] = OrderedDict()
        self._protected_bytes = 0
        self._protect: OrderedDict[ThumbnailKey, None] = OrderedDict()

    def _evicted(self, key: ThumbnailKey) -> None:
        self._evictions += 1
        self._recency.pop(key, None)

    @property
    def cap_bytes(self) -> int:
        return int(self._lru.maxsize)

    @property
    def bytes(self) -> int:
        return int(self._lru.currsize) + self._protected_bytes

    def get(self, key: ThumbnailKey) -> QImage | None:
        """The image, now the most recently used; None (a miss) if absent."""
        image = self._protected.get(key)
        if image is not None:
            self._protected.move_to_end(key)
        else:
            image = self._lru.get(key)
            if image is not None:
                self._recency.move_to_end(key)
        if image is None:
            self._misses += 1
        else:
            self._hits += 1
        return image

    def protect(self, keys: Iterable[ThumbnailKey]) -> None:
        """Keep these thumbnails (the first screen of an inspection's grid) ahead of the LRU
        order, those cached now and those put later, within the protected share of the cap."""
        for key in keys:
            self._protect[key] = None
            self._protect.move_to_end(key)
            if key in self._lru:
                image = self._lru.pop(key)
                self._recency.pop(key, None)
                self._keep_protected(key, image)
        while len(self._protect) > MAX_PROTECTED_KEYS:
            self._protect.popitem(last=False)

    def _keep_protected(self, key: ThumbnailKey, image: QImage) -> None:
        self._protected[key] = image
        self._protected_bytes += image_bytes(image)
        share = self.cap_bytes // PROTECTED_SHARE
        while self._protected_bytes > share and self._protected:
            # The least recently used goes back to the common order, as its newest entry.
            old_key, old_image = self._protected.popitem(last=False)
            self._protected_bytes -= image_bytes(old_image)
            self._lru[old_key] = old_image
            self._recency[old_key] = None
        while self._lru.currsize + self._protected_bytes > self.cap_bytes and len(self._lru):
            self._lru.popitem()  # an eviction, counted

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
        if key in self._protect:
            self._keep_protected(key, image)
            return key in self  # False only if it alone is more than the cap allows
        self._lru[key] = image  # evicts (through _evicted) until the image fits
        self._recency[key] = None
        while self._lru.currsize + self._protected_bytes > self.cap_bytes and len(self._lru):
            self._lru.popitem()
        return key in self._lru

    def discard(self, key: ThumbnailKey) -> None:
        self._lru.pop(key, None)
        self._recency.pop(key, None)
        image = self._protected.pop(key, None)
        if image is not None:
            self._protected_bytes -= image_bytes(image)

    def set_cap_bytes(self, cap_bytes: int) -> None:
        """Change the cap (from settings) keeping the entries that fit, most recent first."""
        if cap_bytes < 0:
            raise ValueError(f"cache cap must not be negative, got {cap_bytes}")
        old = self._lru
        # Reading the old cache moves its entries in its own order; it is dropped next anyway.
        entries = [(key, old[key]) for key in self._recency]
        entries += list(self._protected.items())
        self.clear()
        self._lru = _ByteLRU(cap_bytes, self._evicted)
        # Oldest first, so the newest end up most recently used and the oldest are evicted.
        for key, image in entries:
            self.put(key, image)

    def clear(self) -> None:
        """Drop every entry; the counters keep the session's history (dropping is no eviction)."""
        self._lru = _ByteLRU(self.cap_bytes, self._evicted)
        self._recency.clear()
        self._protected.clear()
        self._protected_bytes = 0

    def __contains__(self, key: object) -> bool:
        return key in self._protected or key in self._lru

    def __len__(self) -> int:
        return len(self._lru) + len(self._protected)

    def keys(self) -> Iterator[ThumbnailKey]:
        """Least recently used first (the next to be evicted), the protected ones last."""
        return iter([*self._recency, *self._protected])

    def stats(self) -> CacheStats:
        return CacheStats(
            hits=self._hits,
            misses=self._misses,
            evictions=self._evictions,
            entries=len(self),
            bytes=self.bytes,
            cap_bytes=self.cap_bytes,
        )
