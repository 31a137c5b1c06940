"""The printed page: A4 geometry in device units, fonts, colours, and text measured and drawn.

Everything is laid out on QPdfWriter's own device (DEVICE_DPI units per inch), so what is
measured is what is drawn. Photos are decoded for PRINT_DPI at their printed size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPaintDevice, QPainter, QPen

DEVICE_DPI = 300
# Photos: 150 dpi at their printed size is sharp on paper and on screen at 100-150 % zoom, and
# about 30 KB per photo as the PDF engine's JPEG (the 1,100-photo inspection stays < 50 MB).
PRINT_DPI = 150
PHOTO_COLUMNS = 3

WRAP = Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CENTRE = Qt.AlignmentFlag.AlignCenter

INK = QColor("#202124")
MUTED = QColor("#5f6368")
RULE = QColor("#c4c7c5")
PANEL = QColor("#eceff1")
RESULT_COLOURS = {
    "pass": QColor("#2e7d32"),
    "fail": QColor("#c62828"),
    "na": QColor("#757575"),
    "pending": QColor("#ef8f00"),
}
ATTENTION = QColor("#c62828")


def mm(value: float) -> float:
    """Millimetres in device units."""
    return value / 25.4 * DEVICE_DPI


@dataclass(frozen=True)
class PageGeometry:
    """A4 portrait: margins, the header and footer bands, the body and the photo grid."""

    width: float = mm(210)
    height: float = mm(297)
    margin_x: float = mm(16)
    margin_top: float = mm(10)
    margin_bottom: float = mm(10)
    band: float = mm(9)  # the header's and the footer's height
    gap: float = mm(4)  # between photo cells, and after blocks

    @property
    def body(self) -> QRectF:
        top = self.margin_top + self.band + mm(4)
        bottom = self.height - self.margin_bottom - self.band - mm(2)
        return QRectF(self.margin_x, top, self.width - 2 * self.margin_x, bottom - top)

    @property
    def cell_width(self) -> float:
        return (self.body.width() - (PHOTO_COLUMNS - 1) * self.gap) / PHOTO_COLUMNS

    @property
    def photo_height(self) -> float:
        return self.cell_width * 3 / 4

    @property
    def photo_box_px(self) -> tuple[int, int]:
        """The photo area of a cell in pixels at PRINT_DPI: what photos are decoded to."""
        scale = PRINT_DPI / DEVICE_DPI
        return math.floor(self.cell_width * scale), math.floor(self.photo_height * scale)


def _font(point_size: float, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font


@dataclass(frozen=True)
class Fonts:
    title: QFont
    reference: QFont
    heading: QFont
    subheading: QFont
    body: QFont
    bold: QFont
    small: QFont
    badge: QFont

    @classmethod
    def standard(cls) -> Fonts:
        return cls(
            title=_font(13),
            reference=_font(22, bold=True),
            heading=_font(14, bold=True),
            subheading=_font(11, bold=True),
            body=_font(9.5),
            bold=_font(9.5, bold=True),
            small=_font(7.5),
            badge=_font(7.5, bold=True),
        )


class Typesetter:
    """Measures and draws text on one paint device (the PDF writer)."""

    def __init__(self, device: QPaintDevice, fonts: Fonts | None = None) -> None:
        self.device = device
        self.fonts = fonts or Fonts.standard()
        self._metrics: dict[int, QFontMetricsF] = {}

    def metrics(self, font: QFont) -> QFontMetricsF:
        key = id(font)
        if key not in self._metrics:
            self._metrics[key] = QFontMetricsF(font, self.device)
        return self._metrics[key]

    def line_height(self, font: QFont) -> float:
        return self.metrics(font).lineSpacing()

    def height(self, font: QFont, text: str, width: float) -> float:
        """The height of `text` wrapped to `width`."""
        if not text:
            return 0.0
        rect = self.metrics(font).boundingRect(QRectF(0, 0, width, 1e7), WRAP, text)
        return math.ceil(rect.height())

    def elided(self, font: QFont, text: str, width: float) -> str:
        one_line = " ".join(text.split())
        return self.metrics(font).elidedText(one_line, Qt.TextElideMode.ElideRight, width)

    def text_width(self, font: QFont, text: str) -> float:
        return self.metrics(font).horizontalAdvance(text)

    def draw(
        self,
        painter: QPainter,
        font: QFont,
        rect: QRectF,
        text: str,
        colour: QColor = INK,
        flags: Qt.AlignmentFlag | Qt.TextFlag = WRAP,
    ) -> None:
        painter.setFont(font)
        painter.setPen(colour)
        painter.drawText(rect, int(flags), text)


def draw_rule(painter: QPainter, x1: float, x2: float, y: float, colour: QColor = RULE) -> None:
    painter.setPen(QPen(colour, mm(0.25)))
    painter.drawLine(round(x1), round(y), round(x2), round(y))


def draw_page_frame(
    painter: QPainter,
    ts: Typesetter,
    page: PageGeometry,
    header: tuple[str, str],
    footer: tuple[str, str],
) -> None:
    """The header (the inspection's reference first) and the footer (page numbers) of a page."""
    left, right = page.margin_x, page.width - page.margin_x
    top = page.margin_top
    width = right - left
    title = ts.elided(ts.fonts.bold, header[0], width * 0.75)
    ts.draw(painter, ts.fonts.bold, QRectF(left, top, width * 0.75, page.band), title, INK, LEFT)
    ts.draw(painter, ts.fonts.small, QRectF(left, top, width, page.band), header[1], MUTED, RIGHT)
    draw_rule(painter, left, right, top + page.band)
    bottom = page.height - page.margin_bottom - page.band
    draw_rule(painter, left, right, bottom)
    band = QRectF(left, bottom, width, page.band)
    ts.draw(
        painter,
        ts.fonts.small,
        band,
        ts.elided(ts.fonts.small, footer[0], width * 0.7),
        MUTED,
        LEFT,
    )
    ts.draw(painter, ts.fonts.small, band, footer[1], MUTED, RIGHT)
