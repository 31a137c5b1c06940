"""A one-line label that elides its text when it is narrower than the text."""

from __future__ import annotations

import math

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFontMetricsF, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

# Characters a squeezed label still shows, by default (its minimum width).
MIN_CHARS = 6


class ElidedLabel(QLabel):
    """`text()` is the whole text; what is shown ends in "…" when it does not fit, and the
    whole text is then the tooltip. It never wraps, so a narrow pane keeps a one-line header."""

    def __init__(
        self, text: str = "", parent: QWidget | None = None, *, min_chars: int = MIN_CHARS
    ) -> None:
        super().__init__(parent)
        self._full = ""
        self._min_chars = min_chars
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setText(text)

    def text(self) -> str:
        return self._full

    def shown_text(self) -> str:
        return super().text()

    def setText(self, text: str) -> None:
        if text == self._full and self.shown_text():
            return
        self._full = text
        self.updateGeometry()
        self._elide()

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        margins = self.contentsMargins()
        # Rounded up, and a pixel more: at exactly the rounded advance, elidedText() may find
        # that the text does not fit and elide a label that had all the room it asked for.
        advance = math.ceil(QFontMetricsF(self.font()).horizontalAdvance(self._full)) + 1
        width = advance + margins.left() + margins.right()
        return QSize(width, hint.height())

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        width = self.fontMetrics().averageCharWidth() * self._min_chars
        return QSize(min(width, self.sizeHint().width()), hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width)
        if shown != super().text():
            super().setText(shown)
        self.setToolTip(self._full if shown != self._full else "")
