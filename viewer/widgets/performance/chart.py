"""The latency chart: recent media loads as bars and checklist loads as a line, log scale."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from viewer.models.performance_tables import fmt_ms

MEDIA_COLOUR = QColor("#4a7fd4")
CHECKLIST_COLOUR = QColor("#2e9e6b")
SLOW_COLOUR = QColor("#d93025")
MIN_SLOTS = 40

YScale = Callable[[float], float]


def _axis_label(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:g} s"
    return f"{ms:g} ms"


class LatencyChart(QWidget):
    """Recent media and checklist load latencies, log scale, with the slow threshold drawn."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("latencyChart")
        self._media: tuple[float, ...] = ()
        self._checklist: tuple[float, ...] = ()
        self._threshold_ms = 500.0
        self._points = 120
        self.setMinimumHeight(150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(420, 160)

    def set_series(
        self,
        media_ms: Sequence[float],
        checklist_ms: Sequence[float],
        threshold_ms: float,
        points: int,
    ) -> None:
        series = (tuple(media_ms), tuple(checklist_ms), threshold_ms, max(points, 1))
        if series != (self._media, self._checklist, self._threshold_ms, self._points):
            self._media, self._checklist, self._threshold_ms, self._points = series
            self.update()

    def series(self) -> tuple[tuple[float, ...], tuple[float, ...], float]:
        return self._media, self._checklist, self._threshold_ms

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.8))
        painter.setFont(small)
        metrics = painter.fontMetrics()
        plot = QRectF(self.rect()).adjusted(48, 22, -10, -8)
        painter.fillRect(plot, QColor("#ffffff"))
        painter.setPen(QPen(QColor("#c9c9c9"), 1))
        painter.drawRect(plot)

        y = self._draw_scale(painter, plot)
        media = self._media[-self._points :]
        checklist = self._checklist[-self._points :]
        # At least MIN_SLOTS slots, so a few loads are bars, not slivers at the right edge.
        shown = max(len(media), len(checklist))
        slot = plot.width() / max(min(self._points, MIN_SLOTS), min(shown, self._points))
        self._draw_bars(painter, plot, y, media, slot)
        self._draw_line(painter, plot, y, checklist, slot)
        self._draw_threshold(painter, plot, y, metrics)
        self._draw_legend(painter, plot, metrics)
        painter.end()

    def _draw_scale(self, painter: QPainter, plot: QRectF) -> YScale:
        """Grid lines and labels at each decade; returns the value-to-y mapping."""
        values = [v for v in (*self._media, *self._checklist) if v > 0]
        low = math.floor(math.log10(max(min(values, default=1.0) * 0.8, 0.01)))
        high = math.ceil(math.log10(max(*values, self._threshold_ms * 1.6, 1.0)))
        high = max(high, low + 2)

        def y(value: float) -> float:
            share = (math.log10(max(value, 10.0**low)) - low) / (high - low)
            return plot.bottom() - share * plot.height()

        for decade in range(low, high + 1):
            gy = y(10.0**decade)
            painter.setPen(QPen(QColor("#ececec"), 1))
            painter.drawLine(QPointF(plot.left(), gy), QPointF(plot.right(), gy))
            painter.setPen(QColor("#707070"))
            painter.drawText(
                QRectF(0, gy - 8, plot.left() - 4, 16),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                _axis_label(10.0**decade),
            )
        return y

    def _draw_bars(
        self, painter: QPainter, plot: QRectF, y: YScale, media: Sequence[float], slot: float
    ) -> None:
        for i, value in enumerate(media):
            x = plot.right() - (len(media) - i) * slot
            colour = SLOW_COLOUR if value >= self._threshold_ms else MEDIA_COLOUR
            top = y(value)
            painter.fillRect(
                QRectF(x + 0.5, top, max(1.0, slot - 1.0), plot.bottom() - top), colour
            )

    def _draw_line(
        self, painter: QPainter, plot: QRectF, y: YScale, checklist: Sequence[float], slot: float
    ) -> None:
        if not checklist:
            return
        painter.setPen(QPen(CHECKLIST_COLOUR, 1.5))
        painter.setBrush(CHECKLIST_COLOUR)
        points = [
            QPointF(plot.right() - (len(checklist) - i - 0.5) * slot, y(v))
            for i, v in enumerate(checklist)
        ]
        painter.drawPolyline(points)
        for point in points:
            painter.drawEllipse(point, 1.8, 1.8)
        painter.setBrush(Qt.BrushStyle.NoBrush)

    def _draw_threshold(
        self, painter: QPainter, plot: QRectF, y: YScale, metrics: QFontMetrics
    ) -> None:
        ty = y(self._threshold_ms)
        painter.setPen(QPen(SLOW_COLOUR, 1.2, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(plot.left(), ty), QPointF(plot.right(), ty))
        painter.setPen(SLOW_COLOUR)
        painter.drawText(
            QRectF(plot.left(), ty - metrics.height() - 1, plot.width() - 4, metrics.height()),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom),
            f"slow ≥ {fmt_ms(self._threshold_ms)}",
        )

    def _draw_legend(self, painter: QPainter, plot: QRectF, metrics: QFontMetrics) -> None:
        legend_x = plot.left()
        for colour, name in ((MEDIA_COLOUR, "media loads"), (CHECKLIST_COLOUR, "checklist loads")):
            painter.fillRect(QRectF(legend_x, 7, 10, 10), colour)
            painter.setPen(QColor("#404040"))
            painter.drawText(QPointF(legend_x + 14, 16), name)
            legend_x += 22 + metrics.horizontalAdvance(name)
        if not self._media and not self._checklist:
            painter.setPen(QColor("#909090"))
            painter.drawText(plot, int(Qt.AlignmentFlag.AlignCenter), "No loads yet")
