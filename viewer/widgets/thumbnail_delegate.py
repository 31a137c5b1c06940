"""Paints one grid cell: the thumbnail scaled into its box, the caption below, selection."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from viewer.models.media_grid import FailureRole

_Index = QModelIndex | QPersistentModelIndex


class ThumbnailDelegate(QStyledItemDelegate):
    """QListView draws a QImage decoration at its own size; grid cells need it fitted."""

    def __init__(self, cell: QSize, icon: QSize, parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self.cell = cell
        self.icon = icon

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return self.cell

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        rect: QRect = option.rect
        state = option.state
        palette: QPalette = option.palette
        painter.save()
        selected = bool(state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect.adjusted(2, 2, -2, -2), palette.highlight())
        box = QRect(
            rect.left() + (rect.width() - self.icon.width()) // 2,
            rect.top() + 4,
            self.icon.width(),
            self.icon.height(),
        )
        image = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(image, QImage) and not image.isNull():
            size = image.size()
            if size.width() > box.width() or size.height() > box.height():
                size = size.scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(box.center())
            painter.drawImage(target, image)
        failure = index.data(FailureRole)
        text_rect = QRect(
            rect.left() + 4, box.bottom() + 4, rect.width() - 8, rect.bottom() - box.bottom() - 6
        )
        caption = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        metrics = QFontMetrics(option.font)
        painter.setPen(
            palette.highlightedText().color()
            if selected
            else QColor("#8a1c13")
            if failure
            else palette.text().color()
        )
        painter.drawText(
            text_rect,
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
            metrics.elidedText(caption, Qt.TextElideMode.ElideRight, text_rect.width()),
        )
        if bool(state & QStyle.StateFlag.State_HasFocus):
            painter.setPen(palette.highlight().color())
            painter.drawRect(rect.adjusted(1, 1, -2, -2))
        painter.restore()
