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


def test_a_protected_first_screen_outlasts_a_scroll_through_more_than_the_cap() -> None:
    cache = ThumbnailCache(800 * 4)  # 100 pixels protected at most
    first_screen = [(1, 256), (2, 256)]
    cache.put(first_screen[0], _image(20))  # cached before it is protected: moved
    cache.protect(first_screen)
    cache.put(first_screen[1], _image(20))  # arrives after: protected on arrival
    for media_id in range(100, 200):  # ten times the cap of other photos
        cache.put((media_id, 256), _image(80))
    assert all(cache.get(key) is not None for key in first_screen)
    assert cache.get((100, 256)) is None  # the common order still evicts
    assert cache.bytes <= cache.cap_bytes
    assert list(cache.keys())[-2:] == first_screen  # the protected ones last
    assert cache.bytes == 4 * (20 + 20 + 80 * (len(cache) - 2))


def test_protected_thumbnails_beyond_their_share_go_back_to_the_common_order() -> None:
    cache = ThumbnailCache(800 * 4)  # share: 100 pixels
    screens = [[(i, 256)] for i in range(4)]
    for screen in screens:
        cache.protect(screen)
        cache.put(screen[0], _image(40))
    # 160 pixels protected: the two least recently used went back, as the newest there.
    assert list(cache.keys()) == [(0, 256), (1, 256), (2, 256), (3, 256)]
    assert cache.get((1, 256)) is not None
    for media_id in range(100, 120):
        cache.put((media_id, 256), _image(80))
    assert (0, 256) not in cache and (1, 256) not in cache
    assert (2, 256) in cache and (3, 256) in cache
    assert cache.stats().entries == len(list(cache.keys()))


@settings(deadline=None)
@given(
    cap_pixels=st.integers(0, 120),
    operations=st.lists(
        st.one_of(
            st.tuples(st.just("put"), st.integers(0, 7), st.integers(1, 40)),
            st.tuples(st.just("get"), st.integers(0, 7), st.just(0)),
            st.tuples(st.just("protect"), st.integers(0, 7), st.just(0)),
            st.tuples(st.just("discard"), st.integers(0, 7), st.just(0)),
            st.tuples(st.just("cap"), st.integers(0, 7), st.integers(0, 120)),
        ),
        max_size=80,
    ),
)
def test_with_protected_entries_the_cache_still_keeps_its_cap_and_its_counts(
    cap_pixels: int, operations: list[tuple[str, int, int]]
) -> None:
    cache = ThumbnailCache(cap_pixels * 4)
    widths: dict[tuple[int, int], int] = {}  # what was last put, if still cached
    hits = misses = 0
    for op, media_id, number in operations:
        key = (media_id, 256)
        if op == "put":
            cache.put(key, _image(number))
            widths[key] = number
        elif op == "get":
            image = cache.get(key)
            if image is None:
                misses += 1
            else:
                hits += 1
                assert image.width() == widths[key]
        elif op == "protect":
            cache.protect([key])
        elif op == "discard":
            cache.discard(key)
        else:
            cache.set_cap_bytes(number * 4)
        present = list(cache.keys())
        assert len(present) == len(set(present)) == len(cache)
        assert cache.bytes == 4 * sum(widths[k] for k in present) <= cache.cap_bytes
    stats = cache.stats()
    assert (stats.hits, stats.misses) == (hits, misses)
