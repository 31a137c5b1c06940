"""The inspection list: the user's query, keyset paging, and the remembered selection."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from db.metrics import QueryMetrics
from db.queries import list_inspections
from db.records import InspectionPage, InspectionQuery
from viewer.presenters.tasks import TaskSet, error_text
from viewer.widgets.main_window import MainWindow

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
        self._next_key: tuple[Any, ...] | None = None
        self._generation = 0
        window.query_changed.connect(self.set_query)
        window.inspections.more_requested.connect(self.load_more)

    def set_query(self, query: InspectionQuery) -> None:
        if query != self.query:
            self.query = query
            self.tasks.spawn(self.load_first_page())

    async def load_first_page(self) -> None:
        if self.engine is None:
            return
        self._generation += 1
        generation = self._generation
        try:
            page = await self._page(None)
        except Exception as exc:
            self._failed(exc)
            return
        if generation != self._generation:
            return  # the user typed on: a newer query owns the list
        self._next_key = page.next_key
        self.window.show_inspections(page.rows, has_more=page.next_key is not None)
        self.window.show_status(
            f"{len(page.rows):,}{'+' if page.next_key else ''} inspections", 5000
        )
        if not page.rows:
            self.window.show_inspection(None)
            self._on_empty()
            return
        wanted, self.restore_reference = self.restore_reference, None
        row = next((i for i, r in enumerate(page.rows) if r.reference_code == wanted), 0)
        self.window.select_inspection_row(row)

    def load_more(self) -> None:
        if self._next_key is not None:
            self.tasks.spawn(self._load_more(self._generation, self._next_key))

    async def _load_more(self, generation: int, after: tuple[Any, ...]) -> None:
        try:
            page = await self._page(after)
        except Exception as exc:
            self.window.inspections.fetch_failed()
            self._failed(exc)
            return
        if generation != self._generation:
            return
        self._next_key = page.next_key
        self.window.append_inspections(page.rows, has_more=page.next_key is not None)

    async def _page(self, after: tuple[Any, ...] | None) -> InspectionPage:
        assert self.engine is not None
        action = (
            self.metrics.action("load_page", page=1)
            if after is None
            else self.metrics.action("load_page", after=after[-1])
        )
        with action:
            async with self.engine.connect() as conn:
                return await list_inspections(conn, self.query, after)

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, asyncio.CancelledError):
            raise exc
        message = f"The inspection list could not be loaded: {error_text(exc)}"
        if self.window.inspections.rowCount() == 0:
            self._on_failed(message)
        else:
            self.window.show_status(message)
