"""The collector off the critical path: full collections wait for a quiet window."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from viewer.gc_pacer import FULL_AT_LATEST_S, QUIET_S, CollectionPacer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def pacer(qtbot: object) -> Iterator[tuple[CollectionPacer, Clock]]:
    clock = Clock()
    pacer = CollectionPacer(clock=clock)
    thresholds = gc.get_threshold()
    pacer.start()
    try:
        yield pacer, clock
    finally:
        pacer.stop()
        assert gc.get_threshold() == thresholds, "the collector is handed back as it was"


def _cyclic_garbage() -> weakref.ref[Cycle]:
    cycle = Cycle()
    ref = weakref.ref(cycle)
    # Old enough to need a full collection: alive through the young generations' collections,
    # garbage only once it is in the oldest.
    gc.collect(1)
    gc.collect(1)
    del cycle
    return ref


def test_no_automatic_full_collection_while_the_pacer_runs(
    pacer: tuple[CollectionPacer, Clock],
) -> None:
    """Allocations enough for many automatic full collections: none happens (they wait for a
    quiet window), while the young generations are still collected as they fill."""
    threshold0, threshold1, _ = gc.get_threshold()
    young, full = gc.get_stats()[0]["collections"], gc.get_stats()[2]["collections"]
    kept = []
    # The interpreter's default takes 10 young-generation-1 collections to a full one: 3x that.
    for _ in range(threshold0 * threshold1 * 10 * 3):
        kept.append(Cycle())  # alive: every collection moves them on to the oldest
    assert gc.get_stats()[0]["collections"] > young, "young collections stay automatic"
    assert gc.get_stats()[2]["collections"] == full
    del kept


def test_a_full_collection_waits_until_the_window_is_quiet(
    pacer: tuple[CollectionPacer, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    pacer_, clock = pacer
    monkeypatch.setattr(gc, "get_count", lambda: (0, 0, 99))  # a full collection is due
    ref = _cyclic_garbage()
    pacer_.note_activity()
    clock.now += QUIET_S / 2
    pacer_.tick()
    assert pacer_.full_collections == 0 and ref() is not None, "not while the user is busy"
    clock.now += QUIET_S
    pacer_.tick()
    assert pacer_.full_collections == 1 and ref() is None


def test_a_full_collection_is_never_put_off_for_ever(
    pacer: tuple[CollectionPacer, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    pacer_, clock = pacer
    monkeypatch.setattr(gc, "get_count", lambda: (0, 0, 0))  # not due by the counts
    ref = _cyclic_garbage()
    clock.now += FULL_AT_LATEST_S + 1
    pacer_.note_activity()  # busy, yet it is time
    pacer_.tick()
    assert pacer_.full_collections == 1 and ref() is None
