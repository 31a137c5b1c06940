"""The start-up page (progress, or the error with Retry) and the red error banner."""

from __future__ import annotations

from PySide6.QtCore import (
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

STARTUP_WIDTH = 620


class StartupPage(QWidget):
    """What the window shows while the database starts, migrates or fills; and if that fails."""

    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel(self.tr("Starting..."))
        self.message.setObjectName("startupMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        font = self.message.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.message.setFont(font)
        self.progress = QProgressBar()
        self.error = QLabel()
        self.error.setObjectName("startupError")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet("color: #8a1c13;")
        self.error.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint = QLabel(
            "Check that the server is running and the URL is right, then Retry; "
            "or choose another database with File > Open Database URL..."
        )
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet("color: #606060;")
        self.retry = QPushButton(self.tr("Retry"))
        self.retry.setDefault(True)
        self.retry.clicked.connect(self.retry_requested)
        # A fixed-width column in the middle: wrapped labels need a width to wrap at.
        card = QWidget()
        card.setFixedWidth(STARTUP_WIDTH)
        column = QVBoxLayout(card)
        column.setSpacing(12)
        for widget in (self.message, self.progress, self.error, self.hint):
            column.addWidget(widget)
        column.addWidget(self.retry, alignment=Qt.AlignmentFlag.AlignHCenter)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(card, alignment=Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
        self.show_progress("Starting...", 0, 0)

    def show_progress(self, text: str, done: int, total: int) -> None:
        self.message.setText(text)
        self._fit_heights()
        self.progress.setVisible(True)
        self.progress.setRange(0, max(total, 0))  # 0..0 is Qt's busy indicator
        self.progress.setValue(done if total else 0)
        for widget in (self.error, self.hint, self.retry):
            widget.setVisible(False)

    def show_error(self, text: str) -> None:
        self.message.setText(self.tr("Inspection Viewer could not open the database"))
        self.progress.setVisible(False)
        self.error.setText(text)
        for widget in (self.error, self.hint, self.retry):
            widget.setVisible(True)
        self._fit_heights()

    def _fit_heights(self) -> None:
        # A layout sizes a fixed-width column by sizeHint, which ignores wrapping: give each
        # wrapped label the height its text needs at the column's width.
        for label in (self.message, self.error, self.hint):
            label.setMinimumHeight(max(0, label.heightForWidth(STARTUP_WIDTH - 24)))


class ErrorBanner(QWidget):
    """A red strip with the reason and a Retry button, above the pane that failed."""

    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            "#errorBanner { background: #fdecea; border: 1px solid #f1aeb5; border-radius: 4px; }"
            "#errorBanner QLabel { color: #8a1c13; }"
        )
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry = QPushButton(self.tr("Retry"))
        self.retry.clicked.connect(self.retry_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.retry)
        self.setVisible(False)

    def show_error(self, message: str) -> None:
        self.text.setText(message)
        self.setVisible(True)
