"""The photo grid pane: title, status, error banner, and the thumbnail grid."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QPoint,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from viewer.models.media_grid import MediaGridModel
from viewer.widgets.panes.startup import ErrorBanner
from viewer.widgets.thumbnail_delegate import ThumbnailDelegate

# Thumbnails are decoded at 256 px, so the grid shows them unscaled: no resampling per paint.
GRID_ICON = QSize(256, 192)
GRID_CELL = QSize(266, 220)
# How far beyond the visible rows the grid asks for thumbnails ahead of a scroll.
PREFETCH_ROWS = 12


class MediaPane(QWidget):
    """The photos of the selected inspection or checklist item, with their states."""

    visible_rows_changed = Signal(int, int)  # first, last (prefetch margin included)
    open_requested = Signal(int)  # row

    def __init__(self, model: MediaGridModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.title = QLabel("Photos")
        self.title.setObjectName("mediaTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.status = QLabel()
        self.status.setObjectName("mediaStatus")
        self.status.setStyleSheet("color: #505050;")
        self.banner = ErrorBanner()
        self.grid = QListView()
        self.grid.setObjectName("mediaGrid")
        self.grid.setModel(model)
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setUniformItemSizes(True)
        self.grid.setIconSize(GRID_ICON)
        self.grid.setGridSize(GRID_CELL)
        self.grid.setItemDelegate(ThumbnailDelegate(GRID_CELL, GRID_ICON, self.grid))
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setWordWrap(False)
        self.grid.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.grid.verticalScrollBar().setSingleStep(40)
        self.grid.activated.connect(lambda index: self.open_requested.emit(index.row()))
        self.grid.doubleClicked.connect(lambda index: self.open_requested.emit(index.row()))
        self.message = QLabel("Select an inspection")
        self.message.setObjectName("mediaMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet("color: #707070; font-size: 14px;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.grid)

        # Scrolling and resizing settle before thumbnails are asked for.
        self._visible_timer = QTimer(self)
        self._visible_timer.setSingleShot(True)
        self._visible_timer.setInterval(30)
        self._visible_timer.timeout.connect(self._emit_visible)
        # Not connected to start() directly: valueChanged(int) would pick the start(msec)
        # overload and set the delay to the scroll position.
        self.grid.verticalScrollBar().valueChanged.connect(lambda _v: self._visible_timer.start())
        model.layoutChanged.connect(self._visible_timer.start)

        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._visible_timer.start()

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    def show_grid(self) -> None:
        self.stack.setCurrentWidget(self.grid)
        # New photos: lay the grid out now and ask for the visible thumbnails at once. The
        # debounce is for scrolling; here it would be 30 ms added to every selection.
        self._visible_timer.stop()
        self.grid.doItemsLayout()
        self._emit_visible()

    def columns(self) -> int:
        """How many thumbnails one row of the grid holds at its current width."""
        return max(1, self.grid.viewport().width() // self.grid.gridSize().width())

    def visible_rows(self) -> tuple[int, int] | None:
        """The rows in the viewport now, without the prefetch margin."""
        count = self.model.rowCount()
        if count == 0 or self.stack.currentWidget() is not self.grid:
            return None
        viewport = self.grid.viewport().rect()
        first = self.grid.indexAt(viewport.topLeft() + _inset(4)).row()
        last_index = self.grid.indexAt(viewport.bottomRight() - _inset(4))
        last = last_index.row() if last_index.isValid() else count - 1
        # The bottom-right corner may fall between cells: scan back for the last visible one.
        if not last_index.isValid():
            per_row = max(1, viewport.width() // GRID_CELL.width())
            rows = viewport.height() // GRID_CELL.height() + 2
            last = min(count - 1, max(first, 0) + per_row * rows)
        return max(first, 0), last

    def _emit_visible(self) -> None:
        rows = self.visible_rows()
        if rows is not None:
            self.visible_rows_changed.emit(*rows)


def _inset(n: int) -> QPoint:
    return QPoint(n, n)
