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
    was_enabled = gc.isenabled()
    pacer.start()
    try:
        yield pacer, clock
    finally:
        pacer.stop()
        assert gc.isenabled() == was_enabled, "the collector is handed back as it was"


def _cyclic_garbage() -> weakref.ref[Cycle]:
    cycle = Cycle()
    ref = weakref.ref(cycle)
    # Old enough to need a full collection: alive through the young generations' collections,
    # garbage only once it is in the oldest.
    gc.collect(1)
    gc.collect(1)
    del cycle
    return ref


def test_automatic_collection_is_off_while_the_pacer_runs(
    pacer: tuple[CollectionPacer, Clock],
) -> None:
    assert not gc.isenabled()


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


def test_young_generations_are_collected_when_the_interpreter_would(
    pacer: tuple[CollectionPacer, Clock],
) -> None:
    pacer_, _clock = pacer
    threshold0 = gc.get_threshold()[0]
    garbage: list[list[int]] = [[] for _ in range(threshold0 + 100)]  # tracked allocations
    del garbage
    before = gc.get_stats()[0]["collections"]
    pacer_.tick()
    assert gc.get_stats()[0]["collections"] > before or gc.get_count()[0] < threshold0
