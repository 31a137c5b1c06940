"""The selected inspection: one batch load, then the checklist and the grid in the chosen scope."""

from __future__ import annotations

from collections.abc import Callable

from db.loader import MediaLoadError
from db.records import ALL_MEDIA, InspectionSummary, Scope
from db.selection import Selection, SelectionLoader
from viewer.presenters.thumbnail_feed import ThumbnailFeed
from viewer.widgets.main_window import MainWindow


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
        # Reference codes of the inspections selected so far: the panel names loads by them.
        self.references: dict[int, str] = {}
        self._on_nothing_to_show = on_nothing_to_show
        window.inspection_selected.connect(self.select)
        window.scope_selected.connect(self.show_scope)
        window.refresh_requested.connect(self.refresh)
        window.media_retry_requested.connect(self.refresh)

    def select(self, rec: InspectionSummary | None) -> None:
        self.selection = None
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
        self.feed.begin()
        self.loader.select(rec.id, refresh=True)

    def deliver(self, selection: Selection) -> None:
        self.selection = selection
        result = selection.media
        self.window.show_checklist(selection.checklist)
        if result.strategy == "cache":
            self.window.set_load_label("Loaded from cache")
        else:
            plural = "s" if result.statements != 1 else ""
            self.window.set_load_label(
                f"Last load: {result.seconds * 1000:.0f} ms, {result.statements} statement"
                f"{plural} ({result.strategy})"
            )
        self.show_scope(ALL_MEDIA)

    def fail(self, error: MediaLoadError) -> None:
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
        self.window.show_media(items, f"{title} · {len(items):,} photos", empty)
        self.window.set_media_status(
            "from cache"
            if result.strategy == "cache"
            else f"{result.media.count:,} loaded in {result.seconds * 1000:.0f} ms"
        )
        if not items:
            self._on_nothing_to_show()

    def titles(self) -> dict[int, str]:
        """Checklist item id → "Section · Title", for the photo viewer's captions."""
        if self.selection is None:
            return {}
        return {e.id: f"{e.section} · {e.title}" for e in self.selection.checklist}
