"""Paints one grid cell: the thumbnail centred in its box, the caption below, selection.

It runs for every visible cell on every frame of a scroll, on the GUI thread, so it asks the
model once per cell (MediaGridModel.cell) and keeps each caption elided and laid out (a
QStaticText: laying the text out again on every paint was the largest part of a cell's cost)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRect, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QPainter,
    QPalette,
    QStaticText,
    QTransform,
)
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from viewer.models.media_grid import MediaGridModel

_Index = QModelIndex | QPersistentModelIndex

# As plain ints: a Python enum's `&` costs more than the rest of the test (measured per cell).
_SELECTED = QStyle.StateFlag.State_Selected.value
_FOCUSED = QStyle.StateFlag.State_HasFocus.value
_CAPTION_ALIGN = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
_FAILED_TEXT = QColor("#8a1c13")
# Laid-out captions kept per (caption, width); a grid shows a few hundred distinct ones at most.
_CAPTION_CACHE_LIMIT = 4096
# A reviewer's flag on a photo: a letter badge in the box's top-left corner.
_FLAG_BADGES = {
    "evidence": ("E", QColor("#2e7d32")),
    "unclear": ("U", QColor("#ef8f00")),
    "wrong_item": ("W", QColor("#c62828")),
}
_CONFLICT = QColor("#8e24aa")
_BADGE_PX = 18


class ThumbnailDelegate(QStyledItemDelegate):
    """QListView draws a QImage decoration at its own size; grid cells need it fitted."""

    def __init__(self, cell: QSize, icon: QSize, parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self.cell = cell
        self.icon = icon
        self._font: QFont | None = None  # the font the captions were laid out in
        self._metrics: QFontMetrics | None = None
        self._captions: dict[tuple[str, int], QStaticText] = {}
        # media id -> (flag value, in conflict): set by the review presenter.
        self.flags: dict[int, tuple[str | None, bool]] = {}

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return self.cell

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        model = index.model()
        if not isinstance(model, MediaGridModel):
            return
        row = index.row()
        cell = model.cell(row)
        if cell is None:
            return
        image, caption, failed = cell
        rect: QRect = option.rect
        state = option.state.value
        palette: QPalette = option.palette
        selected = bool(state & _SELECTED)
        if selected:
            painter.fillRect(rect.adjusted(2, 2, -2, -2), palette.highlight())
        icon = self.icon
        box = QRect(
            rect.left() + (rect.width() - icon.width()) // 2,
            rect.top() + 4,
            icon.width(),
            icon.height(),
        )
        self._draw_image(painter, box, image)
        if self.flags:
            flag = self.flags.get(model.media_id(row) or 0)
            if flag is not None and flag[0] is not None:
                self._draw_flag(painter, box, flag[0], flag[1])
        text_rect = QRect(
            rect.left() + 4, box.bottom() + 4, rect.width() - 8, rect.bottom() - box.bottom() - 6
        )
        if selected:
            painter.setPen(palette.highlightedText().color())
        else:
            painter.setPen(_FAILED_TEXT if failed else palette.text().color())
        text = self._caption(option.font, caption, text_rect.width())
        size = text.size()
        if size.height() <= text_rect.height():
            left = text_rect.left() + (text_rect.width() - size.width()) / 2
            painter.drawStaticText(QPointF(left, text_rect.top()), text)
        else:  # no room for a whole line: drawText clips it to the cell
            painter.drawText(text_rect, _CAPTION_ALIGN, text.text())
        if bool(state & _FOCUSED):
            painter.setPen(palette.highlight().color())
            painter.drawRect(rect.adjusted(1, 1, -2, -2))

    @staticmethod
    def _draw_image(painter: QPainter, box: QRect, image: QImage) -> None:
        if image.isNull():
            return
        # Thumbnails are decoded for this box (times the screen's pixel ratio), so this is a
        # plain copy; only a placeholder of another size is scaled.
        ratio = painter.device().devicePixelRatioF()
        size = image.size() if ratio == 1 else (image.size().toSizeF() / ratio).toSize()
        if size.width() > box.width() or size.height() > box.height():
            size = size.scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        target = QRect(0, 0, size.width(), size.height())
        target.moveCenter(box.center())
        painter.drawImage(target, image)

    @staticmethod
    def _draw_flag(painter: QPainter, box: QRect, value: str, conflict: bool) -> None:
        letter, colour = _FLAG_BADGES.get(value, ("?", QColor("#616161")))
        badge = QRect(box.left() + 3, box.top() + 3, _BADGE_PX, _BADGE_PX)
        painter.fillRect(badge, _CONFLICT if conflict else colour)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, letter)

    def _caption(self, font: QFont, caption: str, width: int) -> QStaticText:
        """`caption` elided to `width` and laid out in `font`, from the cache if it can be."""
        if self._font is None or self._metrics is None or self._font != font:
            self._font = QFont(font)
            self._metrics = QFontMetrics(font)
            self._captions.clear()
        text = self._captions.get((caption, width))
        if text is None:
            if len(self._captions) >= _CAPTION_CACHE_LIMIT:
                self._captions.clear()
            text = QStaticText(
                self._metrics.elidedText(caption, Qt.TextElideMode.ElideRight, width)
            )
            text.setTextFormat(Qt.TextFormat.PlainText)
            text.prepare(QTransform(), font)
            self._captions[caption, width] = text
        return text
