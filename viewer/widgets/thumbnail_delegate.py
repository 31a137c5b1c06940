"""Paints one grid cell: the thumbnail centred in its box, the caption below, selection.

It runs for every visible cell on every frame of a scroll, on the GUI thread, so it asks the
model once per cell (MediaGridModel.cell) and keeps the elided captions it has laid out."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from viewer.models.media_grid import MediaGridModel

_Index = QModelIndex | QPersistentModelIndex

_SELECTED = QStyle.StateFlag.State_Selected
_FOCUSED = QStyle.StateFlag.State_HasFocus
_CAPTION_ALIGN = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
_FAILED_TEXT = QColor("#8a1c13")
# Elided captions kept per (caption, width); a grid shows a few hundred distinct ones at most.
_ELIDED_CACHE_LIMIT = 4096
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
        self._metrics: tuple[str, QFontMetrics] | None = None
        self._elided: dict[tuple[str, int], str] = {}
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
        state = option.state
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
        painter.drawText(text_rect, _CAPTION_ALIGN, self._elide(option, caption, text_rect.width()))
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

    def _elide(self, option: QStyleOptionViewItem, caption: str, width: int) -> str:
        font = option.font
        key = font.key()
        if self._metrics is None or self._metrics[0] != key:
            self._metrics = (key, QFontMetrics(font))
            self._elided.clear()
        elided = self._elided.get((caption, width))
        if elided is None:
            if len(self._elided) >= _ELIDED_CACHE_LIMIT:
                self._elided.clear()
            elided = self._metrics[1].elidedText(caption, Qt.TextElideMode.ElideRight, width)
            self._elided[caption, width] = elided
        return elided
