"""ThumbnailCache: bounded in bytes, least recently used out first, honest statistics."""

from __future__ import annotations

from collections import OrderedDict

from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtGui import QImage

from viewer.thumbnails.cache import DEFAULT_CAP_BYTES, ThumbnailCache


def _image(width: int, height: int = 1) -> QImage:
    # RGB32 rows are 4 bytes per pixel with no padding: the byte size is exact.
    return QImage(width, height, QImage.Format.Format_RGB32)


_OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.integers(0, 7), st.integers(1, 40)),
        st.tuples(st.just("get"), st.integers(0, 7), st.just(0)),
    ),
    max_size=80,
)


@settings(deadline=None)
@given(cap_pixels=st.integers(0, 120), operations=_OPERATIONS)
def test_cache_never_exceeds_its_cap_and_evicts_least_recently_used_first(
    cap_pixels: int, operations: list[tuple[str, int, int]]
) -> None:
    cap = cap_pixels * 4
    cache = ThumbnailCache(cap)
    model: OrderedDict[tuple[int, int], int] = OrderedDict()  # key -> width, LRU first
    evictions = hits = misses = 0
    for op, media_id, width in operations:
        key = (media_id, 256)
        if op == "put":
            model.pop(key, None)
            if width * 4 <= cap:
                while 4 * (sum(model.values()) + width) > cap:
                    model.popitem(last=False)
                    evictions += 1
                model[key] = width
            cache.put(key, _image(width))
        else:
            image = cache.get(key)
            if key in model:
                hits += 1
                model.move_to_end(key)
                assert image is not None and image.width() == model[key]
            else:
                misses += 1
                assert image is None
        assert cache.bytes <= cap
        assert cache.bytes == 4 * sum(model.values())
        assert list(cache.keys()) == list(model)
    stats = cache.stats()
    assert (stats.evictions, stats.hits, stats.misses) == (evictions, hits, misses)
    assert (stats.entries, stats.bytes, stats.cap_bytes) == (len(model), cache.bytes, cap)


def test_default_cap_is_128_mib() -> None:
    assert ThumbnailCache().cap_bytes == DEFAULT_CAP_BYTES == 128 * 1024 * 1024


def test_an_image_larger_than_the_cap_is_not_cached_and_drops_the_old_entry() -> None:
    cache = ThumbnailCache(cap_bytes=400)
    assert cache.put((1, 256), _image(50))
    assert not cache.put((1, 256), _image(101))  # 404 bytes
    assert (1, 256) not in cache
    assert cache.stats().evictions == 0
    assert not cache.put((2, 256), QImage())  # null: nothing to keep


def test_hit_rate_and_clear_keep_the_history() -> None:
    cache = ThumbnailCache(cap_bytes=1000)
    assert cache.stats().hit_rate == 0.0
    cache.put((1, 256), _image(10))
    cache.get((1, 256))
    cache.get((1, 256))
    cache.get((2, 256))
    cache.get((3, 256))
    assert cache.stats().hit_rate == 0.5
    cache.clear()
    stats = cache.stats()
    assert (stats.entries, stats.bytes, stats.hits, stats.misses) == (0, 0, 2, 2)


def test_lowering_the_cap_keeps_the_most_recently_used() -> None:
    cache = ThumbnailCache(cap_bytes=400)
    for media_id in range(4):
        cache.put((media_id, 256), _image(25))  # 100 bytes each: full
    cache.get((0, 256))  # now the most recent
    cache.set_cap_bytes(200)
    assert list(cache.keys()) == [(3, 256), (0, 256)]
    assert cache.stats().cap_bytes == 200
    assert cache.stats().evictions == 2


def test_reading_the_order_leaves_the_cache_as_it_was() -> None:
    # On cachetools releases whose copy.copy() of a cache shares its internals (5.5.2 among
    # them), listing the order by draining a copy emptied the live cache.
    cache = ThumbnailCache(cap_bytes=1000)
    for media_id in range(3):
        cache.put((media_id, 256), _image(10))
    cache.get((0, 256))
    order = [(1, 256), (2, 256), (0, 256)]
    assert list(cache.keys()) == order
    assert list(cache.keys()) == order
    assert (len(cache), cache.bytes) == (3, 120)
    assert [cache.get(key) is not None for key in order] == [True, True, True]
    cache.set_cap_bytes(1000)
    assert list(cache.keys()) == order and cache.bytes == 120
    assert cache.stats().evictions == 0


def test_clear_and_discard_are_not_evictions() -> None:
    cache = ThumbnailCache(cap_bytes=1000)
    for media_id in range(3):
        cache.put((media_id, 256), _image(10))
    cache.discard((1, 256))
    assert list(cache.keys()) == [(0, 256), (2, 256)]
    cache.clear()
    assert (len(cache), cache.bytes, list(cache.keys())) == (0, 0, [])
    assert cache.stats().evictions == 0
    cache.put((5, 256), _image(10))
    assert list(cache.keys()) == [(5, 256)]
