"""TierWriter: thumbnails go out in the background, bounded in bytes, none lost under the cap."""

from __future__ import annotations

import threading

from db.storage.tier_writer import TierWriter


def test_a_burst_larger_than_the_old_item_limit_is_published_whole() -> None:
    """A first client queues a whole inspection's thumbnails faster than they go out; under
    the byte cap none is dropped (each one dropped costs the next client an original)."""
    gate = threading.Event()
    published: list[int] = []

    def publish(item: tuple[int, bytes]) -> None:
        gate.wait(10)
        published.append(item[0])

    writer = TierWriter(publish, lambda item: len(item[1]), threads=2, max_bytes=20_000_000)
    try:
        accepted = [writer.submit((n, bytes(10_000))) for n in range(1_500)]
        gate.set()
        assert writer.drain(30)
    finally:
        writer.close()
    assert all(accepted)
    assert sorted(published) == list(range(1_500))
    assert writer.dropped == 0


def test_past_the_byte_cap_a_thumbnail_is_dropped_and_room_comes_back() -> None:
    gate = threading.Event()
    writer = TierWriter(lambda _item: gate.wait(10), len, threads=1, max_bytes=25_000)
    try:
        assert writer.submit(bytes(10_000))
        assert writer.submit(bytes(10_000))
        assert not writer.submit(bytes(10_000))  # 30,000 would be over 25,000
        assert writer.dropped == 1
        gate.set()
        assert writer.drain(10)
        assert writer.submit(bytes(10_000))  # published ones no longer count
    finally:
        gate.set()
        writer.close()
