"""The inspection list: the user's query, keyset paging, and the remembered selection."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from db.metrics import QueryMetrics
from db.queries import list_inspections
from db.records import InspectionPage, InspectionQuery, InspectionSummary
from viewer.presenters.tasks import TaskSet, error_text
from viewer.widgets.main_window import MainWindow
from viewer.words import count

log = logging.getLogger(__name__)


class InspectionListPresenter:
    """Fills the window's list page by page; a newer query makes older answers void."""

    def __init__(
        self,
        window: MainWindow,
        metrics: QueryMetrics,
        tasks: TaskSet,
        *,
        on_empty: Callable[[], None],
        on_failed: Callable[[str], None],
    ) -> None:
        self.window = window
        self.metrics = metrics
        self.tasks = tasks
        self.query = InspectionQuery()
        self.engine: AsyncEngine | None = None
        self.restore_reference: str | None = None
        self._on_empty = on_empty
        self._on_failed = on_failed
        self._shown_query = self.query  # the query of the rows on screen
        self._next_key: tuple[Any, ...] | None = None
        self._generation = 0
        window.query_changed.connect(self.set_query)
        window.inspections.more_requested.connect(self.load_more)

    def set_query(self, query: InspectionQuery) -> None:
        if query != self.query:
            self.query = query
            self.tasks.spawn(self._load_first_page(startup=False))

    async def load_first_page(self) -> None:
        """The start-up load (and Retry's): only its failure becomes the start-up error page."""
        await self._load_first_page(startup=True)

    async def _load_first_page(self, *, startup: bool) -> None:
        if self.engine is None:
            return
        self._generation += 1
        generation = self._generation
        query = self.query
        try:
            page = await self._page(query, None)
        except Exception as exc:
            if generation == self._generation:
                self._failed(exc, startup=startup)
            return
        if generation != self._generation:
            return  # the user typed on: a newer query owns the list
        self._shown_query = query
        self._next_key = page.next_key
        self.window.show_inspections(page.rows, has_more=page.next_key is not None)
        self.window.show_status(
            f"{len(page.rows):,}+ inspections"
            if page.next_key
            else count(len(page.rows), "inspection"),
            5000,
        )
        if not page.rows:
            self.window.show_inspection(None)
            self._on_empty()
            return
        wanted, self.restore_reference = self.restore_reference, None
        self.window.select_inspection_row(first_row(page.rows, wanted, prefer_photos=startup))

    def load_more(self) -> None:
        if self._next_key is not None:
            self.tasks.spawn(self._load_more(self._generation, self._next_key))

    async def _load_more(self, generation: int, after: tuple[Any, ...]) -> None:
        try:
            # The next page of the rows on screen, which a failed search left in place.
            page = await self._page(self._shown_query, after)
        except Exception as exc:
            self.window.inspections.fetch_failed()
            if generation == self._generation:
                self._failed(exc, startup=False)
            return
        if generation != self._generation:
            return
        self._next_key = page.next_key
        self.window.append_inspections(page.rows, has_more=page.next_key is not None)

    async def _page(self, query: InspectionQuery, after: tuple[Any, ...] | None) -> InspectionPage:
        assert self.engine is not None
        action = (
            self.metrics.action("load_page", page=1)
            if after is None
            else self.metrics.action("load_page", after=after[-1])
        )
        with action:
            async with self.engine.connect() as conn:
                return await list_inspections(conn, query, after)

    def _failed(self, exc: Exception, *, startup: bool) -> None:
        message = f"The inspection list could not be loaded: {error_text(exc)}"
        if startup:
            self._on_failed(message)
            return
        # A failed search, filter, sort or page never takes the window away: the list keeps
        # the rows it had (and pages on with their query), the search box stays for the next
        # try, and asking for the same query again runs it again.
        self.query = self._shown_query
        self.window.show_status(message)


def first_row(
    rows: Sequence[InspectionSummary], remembered: str | None, *, prefer_photos: bool
) -> int:
    """The row to select when a list arrives: the remembered inspection if it is there; at
    start-up otherwise the newest one that has photos (a first start should show some), else
    the first row."""
    for i, rec in enumerate(rows):
        if rec.reference_code == remembered:
            return i
    if prefer_photos:
        return next((i for i, rec in enumerate(rows) if rec.media_count > 0), 0)
    return 0
