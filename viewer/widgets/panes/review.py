"""Review controls: a verdict and comment beside the checklist item, flags in the photo viewer."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from db.review.records import COMMENT_MAX_CHARS, LABELS, ReviewEntry

# value, label, key: the common verdicts have keys of their own.
VERDICTS = (
    ("accepted", "Accepted", "1"),
    ("needs_rework", "Needs rework", "2"),
    ("not_applicable", "N/A", "3"),
)
FLAGS = (
    ("evidence", "Evidence", "E"),
    ("unclear", "Unclear", "U"),
    ("wrong_item", "Wrong item", "W"),
)
FILTERS = (
    ("all", "All items"),
    ("unreviewed", "Unreviewed"),
    ("needs_rework", "Needs rework"),
    ("flagged", "Flagged photos"),
    ("conflict", "Conflicts"),
)
VERDICT_COLOURS = {
    "accepted": "#2e7d32",
    "needs_rework": "#c62828",
    "not_applicable": "#757575",
    "conflict": "#8e24aa",
}


def describe(entry: ReviewEntry | None) -> str:
    """One line under the controls: who said what when, and a conflict to resolve."""
    if entry is None:
        return "Not reviewed yet"
    rec = entry.record
    when = rec.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
    text = f"{LABELS.get(rec.value or '', 'No verdict')} · {rec.reviewer}, {when}"
    if entry.versions > 1:
        text += f" · {entry.versions} versions"
    if entry.conflict:
        text += " · CONFLICT with another reviewer: record a new verdict to resolve"
    return text


class _CommentBox(QPlainTextEdit):
    """A comment; Ctrl+Enter saves it. Longer than the limit is cut as it is typed."""

    submitted = Signal(str)

    def __init__(self, placeholder: str) -> None:
        super().__init__()
        self.setPlaceholderText(placeholder)
        self.setMaximumHeight(64)
        self.textChanged.connect(self._limit)

    def _limit(self) -> None:
        text = self.toPlainText()
        if len(text) > COMMENT_MAX_CHARS:
            self.setPlainText(text[:COMMENT_MAX_CHARS])

    def keyPressEvent(self, event: object) -> None:
        from PySide6.QtGui import QKeyEvent

        assert isinstance(event, QKeyEvent)
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.submitted.emit(self.toPlainText())
            return
        super().keyPressEvent(event)


def _buttons(choices: Sequence[tuple[str, str, str]], row: QHBoxLayout) -> dict[str, QPushButton]:
    buttons: dict[str, QPushButton] = {}
    for value, label, key in choices:
        button = QPushButton(f"{label} ({key})")
        button.setCheckable(True)
        button.setObjectName(f"review_{value}")
        row.addWidget(button)
        buttons[value] = button
    return buttons


class ReviewPane(QWidget):
    """Beside the checklist: the selected item's verdict and comment, the inspection's
    decision, the filter, and how many records wait to be synced (offline)."""

    verdict_chosen = Signal(str)
    comment_saved = Signal(str)
    decision_chosen = Signal(str)
    history_requested = Signal()
    next_unreviewed_requested = Signal()
    filter_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewPane")
        self.target = QLabel(self.tr("Select a checklist item to review it"))
        self.target.setWordWrap(True)
        self.target.setStyleSheet("font-weight: bold;")
        row = QHBoxLayout()
        self.verdicts = _buttons(VERDICTS, row)
        for value, button in self.verdicts.items():
            button.clicked.connect(lambda _=False, v=value: self.verdict_chosen.emit(v))
        self.comment = _CommentBox("Comment on this item (Ctrl+Enter saves)")
        self.comment.submitted.connect(self.comment_saved)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.state.setObjectName("reviewState")
        actions = QHBoxLayout()
        save = QPushButton(self.tr("Save comment"))
        save.clicked.connect(lambda: self.comment_saved.emit(self.comment.toPlainText()))
        history = QPushButton(self.tr("History..."))
        history.clicked.connect(self.history_requested)
        nxt = QPushButton(self.tr("Next unreviewed (N)"))
        nxt.clicked.connect(self.next_unreviewed_requested)
        for button in (save, history, nxt):
            actions.addWidget(button)
        self.filter = QComboBox()
        self.filter.setObjectName("reviewFilter")
        for value, label in FILTERS:
            self.filter.addItem(label, value)
        self.filter.currentIndexChanged.connect(
            lambda _i: self.filter_changed.emit(self.filter.currentData())
        )
        self.decision = QLabel(self.tr("Inspection: no decision yet"))
        self.decision.setWordWrap(True)
        decide = QHBoxLayout()
        decide.addWidget(QLabel(self.tr("Show:")))
        decide.addWidget(self.filter, 1)
        for value, label in (("approved", "Approve"), ("changes_requested", "Request changes")):
            button = QPushButton(label)
            button.setObjectName(f"review_{value}")
            button.clicked.connect(lambda _=False, v=value: self.decision_chosen.emit(v))
            decide.addWidget(button)
        self.waiting = QLabel()
        self.waiting.setObjectName("reviewWaiting")
        self.waiting.setStyleSheet("color: #8a5a00;")
        self.waiting.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.target)
        layout.addLayout(row)
        layout.addWidget(self.comment)
        layout.addWidget(self.state)
        layout.addLayout(actions)
        layout.addLayout(decide)
        layout.addWidget(self.decision)
        layout.addWidget(self.waiting)
        self.show_item(None, None)

    def install_keys(self, area: QWidget) -> None:
        """1/2/3 for the common verdicts and N for the next unreviewed item, while `area`
        (the checklist tree) has the focus: typing in the search box stays typing."""
        for value, _label, key in VERDICTS:
            shortcut = QShortcut(QKeySequence(key), area)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(lambda v=value: self.verdict_chosen.emit(v))
        nxt = QShortcut(QKeySequence("N"), area)
        nxt.setContext(Qt.ShortcutContext.WidgetShortcut)
        nxt.activated.connect(self.next_unreviewed_requested)

    def show_item(self, title: str | None, entry: ReviewEntry | None) -> None:
        enabled = title is not None
        self.target.setText(title or "Select a checklist item to review it")
        for value, button in self.verdicts.items():
            button.setEnabled(enabled)
            button.setChecked(entry is not None and entry.value == value)
        self.comment.setEnabled(enabled)
        self.comment.setPlainText((entry.record.comment or "") if entry else "")
        self.state.setText(describe(entry) if enabled else "")
        colour = "conflict" if entry is not None and entry.conflict else (entry and entry.value)
        self.state.setStyleSheet(f"color: {VERDICT_COLOURS.get(colour or '', '#404040')};")

    def show_decision(self, entry: ReviewEntry | None) -> None:
        if entry is None:
            self.decision.setText(self.tr("Inspection: no decision yet"))
            return
        summary = f": {entry.record.comment}" if entry.record.comment else ""
        self.decision.setText(f"Inspection {describe(entry)}{summary}")

    def show_waiting(self, count: int | None) -> None:
        self.waiting.setVisible(count is not None)
        if count is not None:
            self.waiting.setText(
                f"{count} review record{'s' if count != 1 else ''} waiting to be synced"
                if count
                else "All review records synced"
            )


class PhotoReviewBox(QWidget):
    """In the photo viewer: the photo's flag and comment (keys E, U, W toggle a flag)."""

    flag_chosen = Signal(object)  # str, or None to clear
    comment_saved = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("photoReview")
        row = QHBoxLayout()
        self.flags = _buttons(FLAGS, row)
        for value, button in self.flags.items():
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrows walk the photos
            button.clicked.connect(
                lambda on=False, v=value: self.flag_chosen.emit(v if on else None)
            )
        self.comment = _CommentBox("Comment on this photo (Ctrl+Enter saves)")
        self.comment.submitted.connect(self.comment_saved)
        self.state = QLabel()
        self.state.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(self.tr("Review")))
        layout.addLayout(row)
        layout.addWidget(self.comment)
        layout.addWidget(self.state)

    def toggle(self, key: str) -> bool:
        """A flag's key pressed in the viewer; True if it was one."""
        for value, _label, flag_key in FLAGS:
            if key.upper() == flag_key:
                on = not self.flags[value].isChecked()
                self.flag_chosen.emit(value if on else None)
                return True
        return False

    def show_entry(self, entry: ReviewEntry | None) -> None:
        for value, button in self.flags.items():
            button.setChecked(entry is not None and entry.value == value)
        self.comment.setPlainText((entry.record.comment or "") if entry else "")
        self.state.setText(describe(entry).replace("No verdict", "No flag"))
