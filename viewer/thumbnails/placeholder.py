"""Placeholder tiles shown instead of a thumbnail that could not be made, one look per kind."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen

from viewer.thumbnails.decode import ErrorKind

LABELS: dict[ErrorKind, str] = {
    ErrorKind.MISSING: "File missing",
    ErrorKind.EMPTY: "Empty file",
    ErrorKind.CORRUPT: "Damaged image",
    ErrorKind.NOT_IMAGE: "Not an image",
    ErrorKind.UNSUPPORTED: "Unsupported format",
    ErrorKind.TOO_LARGE: "Image too large",
    ErrorKind.UNREADABLE: "No permission",
    ErrorKind.INTERNAL: "Could not load",
}
_MARKS: dict[ErrorKind, str] = {
    ErrorKind.MISSING: "?",
    ErrorKind.EMPTY: "0",
    ErrorKind.CORRUPT: "",  # drawn as a crack instead
    ErrorKind.NOT_IMAGE: "Aa",
    ErrorKind.UNSUPPORTED: "?",
    ErrorKind.TOO_LARGE: "+",
    ErrorKind.UNREADABLE: "!",
    ErrorKind.INTERNAL: "!",
}
_BACKGROUND = QColor("#d9d9d9")
_INK = QColor("#6b6b6b")
_ACCENT = QColor("#b3261e")


def placeholder(kind: ErrorKind | str, size_px: int) -> QImage:
    """A 4:3 grey tile whose long edge is `size_px`: a picture glyph, a mark and a short label.

    Draws on a QImage, so any thread may call it; the reason itself belongs in a tooltip.
    """
    kind = ErrorKind(kind)
    width, height = size_px, max(1, size_px * 3 // 4)
    image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(_BACKGROUND)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        unit = size_px / 16
        glyph = QRectF(width / 2 - 3 * unit, height * 0.18, 6 * unit, 4.5 * unit)
        _draw_picture_glyph(painter, glyph, unit)
        if kind is ErrorKind.CORRUPT:
            _draw_crack(painter, glyph, unit)
        else:
            font = QFont()
            font.setPixelSize(max(6, round(2.4 * unit)))
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(_ACCENT)
            badge = QRectF(glyph.right() - 1.5 * unit, glyph.top() - 1.5 * unit, 3 * unit, 3 * unit)
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, _MARKS[kind])
        label_font = QFont()
        label_font.setPixelSize(max(6, round(1.3 * unit)))
        painter.setFont(label_font)
        painter.setPen(_INK)
        label = QRectF(0, glyph.bottom() + unit, width, height - glyph.bottom() - unit)
        painter.drawText(
            label, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, LABELS[kind]
        )
    finally:
        painter.end()
    return image


def _draw_picture_glyph(painter: QPainter, frame: QRectF, unit: float) -> None:
    painter.setPen(QPen(_INK, max(1.0, unit / 3)))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(frame, unit / 2, unit / 2)
    mountains = QPainterPath(QPointF(frame.left() + unit / 2, frame.bottom() - unit / 2))
    mountains.lineTo(frame.left() + 2 * unit, frame.top() + 2 * unit)
    mountains.lineTo(frame.left() + 3.2 * unit, frame.bottom() - 1.5 * unit)
    mountains.lineTo(frame.left() + 4 * unit, frame.top() + 2.6 * unit)
    mountains.lineTo(frame.right() - unit / 2, frame.bottom() - unit / 2)
    painter.drawPath(mountains)
    painter.drawEllipse(
        QPointF(frame.right() - 1.4 * unit, frame.top() + 1.2 * unit), unit / 2, unit / 2
    )


def _draw_crack(painter: QPainter, frame: QRectF, unit: float) -> None:
    painter.setPen(QPen(_ACCENT, max(1.0, unit / 2.5)))
    crack = QPainterPath(QPointF(frame.center().x() - unit / 2, frame.top() - unit / 2))
    crack.lineTo(frame.center().x() + unit / 2, frame.top() + 1.5 * unit)
    crack.lineTo(frame.center().x() - unit / 2, frame.top() + 3 * unit)
    crack.lineTo(frame.center().x() + unit / 3, frame.bottom() + unit / 2)
    painter.drawPath(crack)
