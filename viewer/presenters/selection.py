"""The selected inspection: one batch load, then the checklist and the grid in the chosen scope."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QTimer

from db.loader import MediaLoadError
from db.records import ALL_MEDIA, InspectionSummary, MediaItem, Scope
from db.selection import Selection, SelectionLoader
from viewer.presenters.thumbnail_feed import ThumbnailFeed
from viewer.widgets.main_window import MainWindow
from viewer.words import count

log = logging.getLogger(__name__)

# How often rows still streaming in are added to the grid after its first screenful.
STREAM_FLUSH_MS = 250


class SelectionPresenter:
    """Selection → one batch load → records → models → views, in one straight line.

    The scope (all media, a section, an item) is chosen here: a new inspection starts on all
    of its media without a round trip through the checklist tree's signals.
    """

    def __init__(
        self,
        window: MainWindow,
        feed: ThumbnailFeed,
        *,
        on_nothing_to_show: Callable[[], None],
    ) -> None:
        self.window = window
        self.feed = feed
        self.loader: SelectionLoader | None = None
        self.selection: Selection | None = None
        self.scope: Scope = ALL_MEDIA
        self._streamed = 0  # rows of the selected inspection already shown while it streams
        self._pending: list[MediaItem] = []  # streamed rows not yet handed to the grid
        self._flush_timer = QTimer(window)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(STREAM_FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush)
        # The checklist of a complete load, shown on a later turn of the loop (see deliver).
        self._checklist_due: Selection | None = None
        self._checklist_timer = QTimer(window)
        self._checklist_timer.setSingleShot(True)
        self._checklist_timer.setInterval(0)
        self._checklist_timer.timeout.connect(self._show_checklist)
        # Reference codes of the inspections selected so far: the panel names loads by them.
        self.references: dict[int, str] = {}
        self._on_nothing_to_show = on_nothing_to_show
        window.inspection_selected.connect(self.select)
        window.scope_selected.connect(self.show_scope)
        window.refresh_requested.connect(self.refresh)
        window.media_retry_requested.connect(self.refresh)

    async def first_rows_shown(self) -> None:
        """Until the grid has the selected inspection's first rows (or its load has ended):
        the other loads of a selection wait for this (SelectionLoader.first_rows_shown)."""
        if self.loader is not None:
            await self.loader.first_rows_shown()

    def select(self, rec: InspectionSummary | None) -> None:
        self.selection = None
        self.scope = ALL_MEDIA
        self._streamed = 0
        self._pending = []
        if rec is not None:
            self.references[rec.id] = rec.reference_code
        self.feed.begin()  # queued thumbnails of the old one are dropped
        if self.loader is not None:
            self.loader.select(rec.id if rec is not None else None)

    def refresh(self) -> None:
        """F5 and Retry: reload the selected inspection from the database, bypassing caches."""
        rec = self.window.selected_inspection()
        if rec is None or self.loader is None:
            return
        self.window.show_inspection(rec)
        self.selection = None
        self.scope = ALL_MEDIA
        self._streamed = 0
        self._pending = []
        self.feed.begin()
        self.loader.select(rec.id, refresh=True)

    def partial(self, inspection_id: int, offset: int, rows: tuple[MediaItem, ...]) -> None:
        """Rows of the selected inspection while they stream in. The first chunk (more than
        a screenful) goes to the grid at once; later ones are gathered and added a few times
        a second, so the window is not relaid out and repainted for every chunk while the
        driver still reads the rest (the checklist comes with the complete result)."""
        if self.selection is not None:
            return  # complete already (a cached re-selection)
        if offset == 0 or offset != self._streamed + len(self._pending):
            # The first chunk, or a retry that began anew.
            self._pending = []
            self._streamed = len(rows)
            self.window.show_media(rows, self._so_far(), "No media for this inspection")
            return
        self._pending.extend(rows)
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _flush(self) -> None:
        if self._pending and self.selection is None:
            rows, self._pending = tuple(self._pending), []
            self._streamed += len(rows)
            self.window.append_media(rows, self._so_far())

    def _so_far(self) -> str:
        return f"All media · {self._streamed:,} photos so far"

    def deliver(self, selection: Selection) -> None:
        self.selection = selection
        result = selection.media
        self._log_load(selection)
        if result.strategy == "cache":
            self.window.set_load_label("Loaded from cache")
        else:
            plural = "s" if result.statements != 1 else ""
            self.window.set_load_label(
                f"Last load: {result.seconds * 1000:.0f} ms, {result.statements} statement"
                f"{plural} ({result.strategy})"
            )
        self._flush_timer.stop()
        self._pending = []
        streamed, self._streamed = self._streamed, 0
        everything = result.media.all_media()
        if streamed and self.window.media.media() == everything[:streamed]:
            # The grid holds the first rows already: add the rest, keep what is on screen.
            title = f"All media · {count(len(everything), 'photo')}"
            self.window.append_media(everything[streamed:], title)
            self._show_load_status()
        else:
            self.show_scope(ALL_MEDIA)
        # The checklist on a later turn of the loop: for a 1,000-item inspection the tree and
        # the rest of the rows each hold the GUI thread for tens of milliseconds; one after the
        # other in one turn, they were one long stall (measured with bench gui). A timer
        # object, not QTimer.singleShot(0, ...): Qt 6 posts a zero single shot as an event,
        # which ran before the timers (and input) that were due, so the two steps still
        # stalled the window as one.
        self._checklist_due = selection
        self._checklist_timer.start()

    def _show_checklist(self) -> None:
        selection, self._checklist_due = self._checklist_due, None
        if selection is not None and self.selection is selection:
            self.window.show_checklist(selection.checklist)

    def _log_load(self, selection: Selection) -> None:
        result = selection.media
        log.log(
            logging.DEBUG if result.strategy == "cache" else logging.INFO,
            "loaded inspection %s: %d statement%s, strategy %s, %.0f ms, %d rows, %d checklist "
            "items, %d retries",
            self.references.get(selection.inspection_id, f"id {selection.inspection_id}"),
            result.statements,
            "" if result.statements == 1 else "s",
            result.strategy,
            result.seconds * 1000,
            result.media.count,
            len(selection.checklist),
            result.retries,
        )

    def fail(self, error: MediaLoadError) -> None:
        reference = self.references.get(error.inspection_id, f"id {error.inspection_id}")
        log.warning("loading inspection %s failed: %s", reference, error)
        self.window.show_load_error(str(error))
        self.window.show_status(str(error))
        self._on_nothing_to_show()

    def show_scope(self, scope: Scope) -> None:
        self.scope = scope
        if self.selection is None:
            return
        result = self.selection.media
        items, title, empty = scope.pick(self.selection.checklist, result.media)
        self.feed.begin()
        self.window.show_media(items, f"{title} · {count(len(items), 'photo')}", empty)
        self._show_load_status()
        if not items:
            self._on_nothing_to_show()

    def _show_load_status(self) -> None:
        assert self.selection is not None
        result = self.selection.media
        self.window.set_media_status(
            "from cache"
            if result.strategy == "cache"
            else f"{result.media.count:,} loaded in {result.seconds * 1000:.0f} ms"
        )

    def titles(self) -> dict[int, str]:
        """Checklist item id → "Section · Title", for the photo viewer's captions."""
        if self.selection is None:
            return {}
        return {e.id: f"{e.section} · {e.title}" for e in self.selection.checklist}
