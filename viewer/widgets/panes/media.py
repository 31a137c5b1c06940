"""The photo grid pane: title, status, error banner, and the thumbnail grid."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QEvent,
    QObject,
    QPoint,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QSlider,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from viewer.models.media_grid import MediaGridModel
from viewer.widgets.elided_label import ElidedLabel
from viewer.widgets.panes.startup import ErrorBanner
from viewer.widgets.thumbnail_delegate import ThumbnailDelegate

# The thumbnail box is 4:3; its long edge is what the user picks (slider, Ctrl+wheel, Ctrl+/-).
# Thumbnails are decoded at that size times the screen's pixel ratio, so they are drawn
# unscaled: sharp on HiDPI screens, no resampling per paint.
MIN_THUMBNAIL_PX = 96
MAX_THUMBNAIL_PX = 384
DEFAULT_THUMBNAIL_PX = 160
THUMBNAIL_STEP_PX = 16
# The space around a thumbnail box in its cell: sides, and the caption's line below it.
CELL_MARGIN_PX = 10
CAPTION_PX = 28
# Cells laid out per step of the grid's batched layout.
GRID_LAYOUT_BATCH = 400
# How far beyond the visible rows the grid asks for thumbnails ahead of a scroll.
PREFETCH_ROWS = 12


class MediaPane(QWidget):
    """The photos of the selected inspection or checklist item, with their states."""

    visible_rows_changed = Signal(int, int)  # first, last (prefetch margin included)
    open_requested = Signal(int)  # row
    thumbnail_size_changed = Signal(int)  # the box's long edge in device-independent pixels

    def __init__(self, model: MediaGridModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        # Squeezed (a docked panel), the title keeps more of itself than the status does.
        self.title = ElidedLabel(self.tr("Photos"), min_chars=14)
        self.title.setObjectName("mediaTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.status = ElidedLabel()
        self.status.setObjectName("mediaStatus")
        self.status.setStyleSheet("color: #505050;")
        self.banner = ErrorBanner()
        self.grid = self._make_grid(model)
        self.delegate = ThumbnailDelegate(QSize(), QSize(), self.grid)
        self.grid.setItemDelegate(self.delegate)
        self.thumbnail_px = 0
        self.size_slider = self._make_size_slider()
        self.grid.setAccessibleName(self.tr("Photos of the selected inspection"))
        self.grid.viewport().installEventFilter(self)
        self.grid.installEventFilter(self)
        self.grid.activated.connect(lambda index: self.open_requested.emit(index.row()))
        self.grid.doubleClicked.connect(lambda index: self.open_requested.emit(index.row()))
        self.message = QLabel(self.tr("Select an inspection"))
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
        self.set_thumbnail_px(DEFAULT_THUMBNAIL_PX)

        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.status)
        header.addWidget(self.size_slider)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)

    @staticmethod
    def _make_grid(model: MediaGridModel) -> QListView:
        grid = QListView()
        grid.setObjectName("mediaGrid")
        grid.setModel(model)
        grid.setViewMode(QListView.ViewMode.IconMode)
        grid.setUniformItemSizes(True)
        # Laid out a few hundred cells at a time between events: a single pass over 20,000
        # photos held the GUI thread for about 100 ms of CPU (measured), batches take ~6 ms.
        grid.setLayoutMode(QListView.LayoutMode.Batched)
        grid.setBatchSize(GRID_LAYOUT_BATCH)
        grid.setResizeMode(QListView.ResizeMode.Adjust)
        grid.setMovement(QListView.Movement.Static)
        grid.setWordWrap(False)
        grid.setTextElideMode(Qt.TextElideMode.ElideRight)
        grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        grid.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        grid.verticalScrollBar().setSingleStep(40)
        return grid

    def _make_size_slider(self) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setObjectName("thumbnailSize")
        slider.setRange(MIN_THUMBNAIL_PX, MAX_THUMBNAIL_PX)
        slider.setSingleStep(THUMBNAIL_STEP_PX)
        slider.setPageStep(THUMBNAIL_STEP_PX * 4)
        slider.setFixedWidth(110)
        slider.setToolTip(self.tr("Thumbnail size (Ctrl+wheel, Ctrl+Plus, Ctrl+Minus)"))
        slider.setAccessibleName(self.tr("Thumbnail size"))
        slider.valueChanged.connect(self.set_thumbnail_px)
        return slider

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._visible_timer.start()

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    def show_grid(self) -> None:
        self.stack.setCurrentWidget(self.grid)
        self._fit_cells()
        # New photos: lay the grid out now and ask for the visible thumbnails at once. The
        # debounce is for scrolling; here it would be 30 ms added to every selection.
        self._visible_timer.stop()
        self.grid.doItemsLayout()
        self._emit_visible()

    def set_thumbnail_px(self, px: int) -> None:
        """Resize the thumbnail boxes (clamped to the allowed range, on a 16 px step)."""
        px = max(MIN_THUMBNAIL_PX, min(MAX_THUMBNAIL_PX, round(px / THUMBNAIL_STEP_PX) * 16))
        if px == self.thumbnail_px:
            return
        self.thumbnail_px = px
        icon = QSize(px, px * 3 // 4)
        self.delegate.icon = icon
        self.grid.setIconSize(icon)
        self._fit_cells()
        if self.size_slider.value() != px:
            self.size_slider.setValue(px)
        self.thumbnail_size_changed.emit(px)
        self._visible_timer.start()

    def step_thumbnail_size(self, steps: int) -> None:
        self.set_thumbnail_px(self.thumbnail_px + steps * THUMBNAIL_STEP_PX)

    def decode_px(self) -> int:
        """The size to decode thumbnails at: the box's long edge in device pixels."""
        return round(self.thumbnail_px * self.grid.devicePixelRatioF())

    def _fit_cells(self) -> None:
        """Spread the columns that fit at the chosen size over the grid's whole width.

        Each cell gets an equal share of the width left over, so the grid has no empty strip
        at its right edge. The vertical scroll bar's width is always kept free: the cells must
        not change when it comes and goes, or the layout could flip between two widths."""
        base = self.thumbnail_px + CELL_MARGIN_PX
        grid = self.grid
        # The width QListView wraps its cells in: the viewport without the scroll bar, less
        # one pixel (a row of cells exactly as wide as the viewport wraps its last cell).
        bar = grid.style().pixelMetric(
            QStyle.PixelMetric.PM_ScrollBarExtent, None, grid.verticalScrollBar()
        )
        width = grid.maximumViewportSize().width() - bar - 1
        columns = max(1, width // base)
        cell = QSize(max(base, width // columns), self.delegate.icon.height() + CAPTION_PX)
        if cell != self.grid.gridSize():
            self.delegate.cell = cell
            self.grid.setGridSize(cell)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.grid and event.type() == QEvent.Type.Resize:
            self._fit_cells()
            return False
        if (
            watched is self.grid.viewport()
            and isinstance(event, QWheelEvent)
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            delta = event.angleDelta().y()
            if delta:
                self.step_thumbnail_size(1 if delta > 0 else -1)
            return True
        return super().eventFilter(watched, event)

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
            cell = self.grid.gridSize()
            per_row = max(1, viewport.width() // cell.width())
            rows = viewport.height() // cell.height() + 2
            last = min(count - 1, max(first, 0) + per_row * rows)
        return max(first, 0), last

    def _emit_visible(self) -> None:
        rows = self.visible_rows()
        if rows is not None:
            self.visible_rows_changed.emit(*rows)


def _inset(n: int) -> QPoint:
    return QPoint(n, n)
