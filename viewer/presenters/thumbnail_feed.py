"""Feeds the grid and the photo viewer from the thumbnail service, visible photos first."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from db.records import MediaItem
from db.storage import MediaStore
from viewer.thumbnails.placeholder import placeholder
from viewer.thumbnails.requests import Outcome
from viewer.thumbnails.service import PREVIEW_SIZE, ThumbnailRequest, ThumbnailService
from viewer.widgets.main_window import PREFETCH_ROWS, MainWindow
from viewer.widgets.media_viewer import MediaViewer


class ThumbnailFeed(QObject):
    """Asks for the thumbnails of the rows in view (and a margin), hands back what arrives."""

    # Once: the first shown inspection has its visible thumbnails (or failures) in.
    first_view_ready = Signal()

    def __init__(self, window: MainWindow, thumbnails: ThumbnailService) -> None:
        super().__init__(window)
        self.window = window
        self.thumbnails = thumbnails
        self.store: MediaStore | None = None
        self.viewer: MediaViewer | None = None
        self._first_view_pending = True
        self._failure_images: dict[tuple[str, int], QImage] = {}
        # The grid's decode size: its box times the screen's pixel ratio (sharp on HiDPI).
        self.grid_px = window.media_pane.decode_px()
        window.media_pane.visible_rows_changed.connect(self.on_visible_rows)
        window.media_pane.thumbnail_size_changed.connect(self._on_size_changed)
        thumbnails.delivered.connect(self._on_delivered)

    def _on_size_changed(self, _px: int) -> None:
        # Thumbnails of the old size still queued are dropped by the next cancel_stale; the
        # pane asks for its visible rows again once its layout has settled.
        self.grid_px = self.window.media_pane.decode_px()

    def begin(self) -> None:
        """A new set of photos: queued work for the old one is dropped."""
        self.thumbnails.begin_generation()

    def request(self, item: MediaItem, size: int, *, visible: bool) -> QImage | None:
        if self.store is None:
            return None
        request = ThumbnailRequest(item.id, self.store, item.storage_key, item.sha256, size)
        return self.thumbnails.request(request, visible=visible)

    def on_visible_rows(self, first: int, last: int) -> None:
        model = self.window.media
        count = model.rowCount()
        if count == 0:
            return
        per_row = self.window.media_pane.columns()
        ahead_first = max(0, first - PREFETCH_ROWS * per_row // 4)
        ahead_last = min(count - 1, last + PREFETCH_ROWS * per_row // 2)
        model.keep_rows(ahead_first, ahead_last)
        visible_keys = []
        keep_keys = []
        for row in range(ahead_first, ahead_last + 1):
            item = model.item(row)
            assert item is not None
            key = (item.id, self.grid_px)
            keep_keys.append(key)
            visible = first <= row <= last
            if visible:
                visible_keys.append(key)
            if model.has_image(row):
                continue
            image = self.request(item, self.grid_px, visible=visible)
            if image is not None:
                model.set_image(item.id, image)
        if first == 0:
            # The top of the grid, where an inspection opens: going back to it shows these
            # from memory, however many other photos were scrolled through since.
            self.thumbnails.cache.protect(visible_keys)
        self.thumbnails.set_visible(visible_keys)
        self.thumbnails.cancel_stale(keep_keys, size_px=self.grid_px)  # not the preview
        self._check_first_view()

    def _on_delivered(self, outcomes: tuple[Outcome, ...]) -> None:
        """A batch of thumbnails and failures: the grid's go into the model at once (one
        repaint), the viewer's preview to the viewer."""
        images: list[tuple[int, QImage]] = []
        failures: list[tuple[int, str, str, QImage]] = []
        for outcome in outcomes:
            media_id, size_px = outcome.key
            if size_px == self.grid_px:
                if outcome.image is not None:
                    images.append((media_id, outcome.image))
                else:
                    kind = outcome.kind.value if outcome.kind is not None else "error"
                    failures.append((media_id, kind, outcome.reason, self._failure_tile(kind)))
            elif size_px == PREVIEW_SIZE and self.viewer is not None:
                if outcome.image is not None:
                    self.viewer.show_image(media_id, outcome.image)
                else:
                    self.viewer.show_failure(media_id, outcome.reason)
        if images or failures:
            self.window.media.set_images(images, failures)
            self._check_first_view()

    def _failure_tile(self, kind: str) -> QImage:
        tile = self._failure_images.get((kind, self.grid_px))
        if tile is None:
            tile = self._failure_images[kind, self.grid_px] = placeholder(kind, self.grid_px)
        return tile

    # --- the photo viewer ---------------------------------------------------------------------

    def open_viewer(self, row: int, titles: dict[int, str]) -> None:
        media = self.window.media.media()
        if not 0 <= row < len(media) or self.store is None:
            return
        viewer = MediaViewer(media, row, self.store.describe, titles, self.window)
        viewer.image_needed.connect(self._on_viewer_needs)
        viewer.finished.connect(self._viewer_closed)
        self.viewer = viewer
        viewer.show()
        viewer.show_current()  # the first request, now that the signal is connected

    def _on_viewer_needs(self, item: MediaItem) -> None:
        image = self.request(item, PREVIEW_SIZE, visible=True)
        if image is not None and self.viewer is not None:
            self.viewer.show_image(item.id, image)

    def _viewer_closed(self) -> None:
        if self.viewer is not None:
            self.viewer.deleteLater()
        self.viewer = None

    # --- the first view -----------------------------------------------------------------------

    def _check_first_view(self) -> None:
        if not self._first_view_pending:
            return
        rows = self.window.media_pane.visible_rows()
        if rows is None:
            return
        if all(self.window.media.has_image(row) for row in range(rows[0], rows[1] + 1)):
            self.finish_first_view()

    def finish_first_view(self) -> None:
        if self._first_view_pending:
            self._first_view_pending = False
            self.first_view_ready.emit()
