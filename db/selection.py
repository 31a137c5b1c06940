"""Latest-wins loading of the selected inspection: checklist and media, stale results dropped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from db.errors import UNEXPECTED
from db.loader import LoadResult, MediaBatchLoader, MediaLoadError
from db.media import RowsCallback
from db.records import ChecklistEntry, MediaItem

log = logging.getLogger(__name__)

# The other loads of a selection (the checklist here, the review state in the window) wait
# for the media's first rows, at most this long (s): see SelectionLoader.first_rows_shown.
FIRST_ROWS_PRIORITY_S = 0.5
# A selection less than BURST_S after the last one, whose load was still under way, is part of
# a burst: an arrow key held down the list, clicks in quick succession. It loads once it has
# rested REST_S, so the inspections passed over cost neither statements nor the GUI thread's
# time (measured with bench gui, 20 selections 50 ms apart). Any other selection loads at once.
BURST_S = 0.15
REST_S = 0.06


@dataclass(frozen=True)
class Selection:
    """What the window shows for a selected inspection: its checklist and its media."""

    inspection_id: int
    checklist: tuple[ChecklistEntry, ...]
    media: LoadResult


class SelectionLoader:
    """Latest-wins loading for a selection: only the newest request's result is delivered.

    Selecting another inspection cancels the previous load (unless another caller shares it)
    and a result that still arrives for an inspection no longer selected is dropped. The
    checklist and the media load one statement each. With `partial`, the media rows of the
    selected inspection are also handed over chunk by chunk while they arrive: (inspection id,
    rows delivered before these in this attempt, the new rows); the checklist's statement then
    waits for the first of those chunks (see `first_rows_shown`). In a burst of selections
    (BURST_S), a load starts only once the selection has rested REST_S.
    """

    def __init__(
        self,
        loader: MediaBatchLoader,
        deliver: Callable[[Selection], None],
        fail: Callable[[MediaLoadError], None],
        partial: Callable[[int, int, tuple[MediaItem, ...]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.loader = loader
        self._deliver = deliver
        self._fail = fail
        self._partial = partial
        self.selected: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._first_rows = asyncio.Event()
        self._first_rows.set()
        self.dropped = 0
        self.rested = 0  # loads that waited out a burst (tests, the bench)
        self._clock = clock
        self._selected_at = float("-inf")

    def select(self, inspection_id: int | None, *, refresh: bool = False) -> None:
        now = self._clock()
        last, self._task = self._task, None
        in_flight = last is not None and not last.done()
        if last is not None and in_flight:
            last.cancel()
        # Passing over: the last selection was moments ago and its load has not finished.
        burst = in_flight and now - self._selected_at < BURST_S and not refresh
        self._selected_at = now
        self.selected = inspection_id
        self._first_rows.set()  # whoever waited for the last selection: it is over
        self._first_rows = asyncio.Event()
        if inspection_id is None or self._partial is None:
            self._first_rows.set()
        if inspection_id is None:
            return
        if burst:
            # Even a recent inspection's cached result waits: showing it costs the GUI thread
            # a grid and a checklist, for an inspection the user is passing over.
            self._task = asyncio.ensure_future(self._rest_then_run(inspection_id, self._first_rows))
        elif refresh or not self._deliver_cached(inspection_id, self._first_rows):
            self._task = asyncio.ensure_future(self._run(inspection_id, refresh, self._first_rows))

    def _deliver_cached(self, inspection_id: int, first_rows: asyncio.Event) -> bool:
        """Re-selecting a recent inspection: deliver now, not a few event-loop turns (and a
        repaint or two) later. False if it is not cached."""
        cached = self.loader.cached(inspection_id)
        if cached is None:
            return False
        checklist, media = cached
        first_rows.set()
        result = LoadResult(inspection_id, media, "cache", 0, 0.0, 0)
        self._deliver(Selection(inspection_id, checklist, result))
        return True

    async def _rest_then_run(self, inspection_id: int, first_rows: asyncio.Event) -> None:
        await asyncio.sleep(REST_S)  # cancelled by the next selection of the burst
        self.rested += 1
        if not self._deliver_cached(inspection_id, first_rows):
            await self._run(inspection_id, False, first_rows)

    async def first_rows_shown(self) -> None:
        """Until the selected inspection's first media rows have been handed over, its load
        has ended, or another selection was made; at most FIRST_ROWS_PRIORITY_S.

        What the other loads of a selection wait for before they send their statements: each
        would answer on the GUI thread and cost it a few milliseconds (the driver, the ORM,
        its model) between the selection and the first photos. Measured with `bench gui` on
        the 1,100-photo inspection, warm caches: the first rows came 10-12 ms sooner. Over a
        slow network they start a round trip later; their panes are filled only with complete
        results anyway.
        """
        await _within(self._first_rows, FIRST_ROWS_PRIORITY_S)

    async def _run(self, inspection_id: int, refresh: bool, first_rows: asyncio.Event) -> None:
        failure: MediaLoadError | None = None
        try:
            async with asyncio.TaskGroup() as group:
                # The media first (the grid shows rows as they stream in; the checklist is
                # shown only with the complete result): its statement goes once they are in.
                media = group.create_task(
                    self.loader.load_media(
                        inspection_id,
                        refresh=refresh,
                        on_rows=self._rows_for(inspection_id, first_rows),
                    )
                )
                media.add_done_callback(lambda _task: first_rows.set())
                checklist = group.create_task(self._checklist(inspection_id, refresh, first_rows))
        except* MediaLoadError as failures:
            first = failures.exceptions[0]
            assert isinstance(first, MediaLoadError)
            failure = first
        except* Exception as bugs:  # not the database failing: our code, logged in full
            log.error("loading inspection %s failed", inspection_id, exc_info=bugs)
            bug = UNEXPECTED.format(name=type(bugs.exceptions[0]).__name__)
            message = f"Loading inspection {inspection_id} failed: {bug}"
            failure = MediaLoadError(inspection_id, message, transient=False)
        if failure is not None:
            if self.selected == inspection_id:
                self._fail(failure)
            return
        if self.selected != inspection_id:
            self.dropped += 1
            return
        self._deliver(Selection(inspection_id, checklist.result(), media.result()))

    async def _checklist(
        self, inspection_id: int, refresh: bool, first_rows: asyncio.Event
    ) -> tuple[ChecklistEntry, ...]:
        await _within(first_rows, FIRST_ROWS_PRIORITY_S)
        return await self.loader.load_checklist(inspection_id, refresh=refresh)

    def _rows_for(self, inspection_id: int, first_rows: asyncio.Event) -> RowsCallback | None:
        partial = self._partial
        if partial is None:
            return None

        def on_rows(offset: int, rows: tuple[MediaItem, ...]) -> None:
            if self.selected == inspection_id:  # not for a selection the user has left
                partial(inspection_id, offset, rows)
            first_rows.set()

        return on_rows

    async def wait(self) -> None:
        """For tests and shutdown: until the current load has finished or been cancelled."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def cancel(self) -> None:
        self.select(None)


async def _within(event: asyncio.Event, limit_s: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), limit_s)
