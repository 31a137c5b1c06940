"""What the thumbnail service counts (GUI thread only), for its stats and the panel."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from types import MappingProxyType

from viewer.thumbnails.budget import DecodeBudget
from viewer.thumbnails.cache import CacheStats
from viewer.thumbnails.requests import Outcome, Source, ThumbnailStats


@dataclass(slots=True)
class Tally:
    recent_timings: int = 1000
    requests: int = 0
    memory_hits: int = 0
    disk_hits: int = 0
    decodes: int = 0
    coalesced: int = 0
    cancelled: int = 0
    stale_results: int = 0
    workers_lost: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    decode_seconds: deque[float] = field(init=False)

    def __post_init__(self) -> None:
        self.decode_seconds = deque(maxlen=self.recent_timings)

    def outcome(self, outcome: Outcome, *, current: bool) -> None:
        """A worker's answer; `current`: of the generation on screen (else it is stale)."""
        if outcome.image is not None:
            if outcome.source is Source.DISK:
                self.disk_hits += 1
            else:
                self.decodes += 1
                self.decode_seconds.append(outcome.seconds)
        elif outcome.kind is not None:
            self.errors[outcome.kind.value] += 1
        if not current:
            self.stale_results += 1

    def snapshot(
        self,
        *,
        queued: int,
        in_flight: int,
        pending_writes: int,
        workers: int,
        cache: CacheStats,
        budget: DecodeBudget,
    ) -> ThumbnailStats:
        """These counts with the service's state of the moment, as one frozen record."""
        return ThumbnailStats(
            requests=self.requests,
            memory_hits=self.memory_hits,
            disk_hits=self.disk_hits,
            decodes=self.decodes,
            coalesced=self.coalesced,
            cancelled=self.cancelled,
            stale_results=self.stale_results,
            errors=MappingProxyType(dict(self.errors)),
            queued=queued,
            in_flight=in_flight,
            pending_writes=pending_writes,
            workers=workers,
            decode_seconds=tuple(self.decode_seconds),
            cache=cache,
            decode_bytes_reserved=budget.reserved,
            decode_bytes_peak=budget.peak,
            decode_memory_waits=budget.waits,
            workers_lost=self.workers_lost,
        )
