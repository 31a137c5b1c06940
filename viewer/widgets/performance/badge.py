"""The health badge: the score on a tile coloured by its band, the formula on hover."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from viewer.models.performance_tables import NONE_TEXT

BAND_COLOURS = {"good": "#1e8e3e", "fair": "#e37400", "poor": "#d93025"}


class HealthBadge(QFrame):
    """The score on a coloured tile; the formula and its parts on hover."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("healthBadge")
        self.setFixedSize(84, 66)
        self.score = QLabel(NONE_TEXT)
        self.score.setObjectName("healthScore")
        self.score.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.score.font()
        font.setPointSizeF(font.pointSizeF() * 2.0)
        font.setBold(True)
        self.score.setFont(font)
        self.band = QLabel("")
        self.band.setObjectName("healthBand")
        self.band.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 4, 2, 4)
        layout.setSpacing(0)
        layout.addWidget(self.score)
        layout.addWidget(self.band)
        self.set_band("good")

    def set_band(self, band: str) -> None:
        colour = BAND_COLOURS.get(band, "#707070")
        sheet = (
            f"#healthBadge {{ background: {colour}; border-radius: 8px; }}"
            "#healthBadge QLabel { color: white; }"
        )
        if self.styleSheet() != sheet:
            self.setStyleSheet(sheet)
