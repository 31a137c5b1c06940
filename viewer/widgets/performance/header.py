"""The panel's header: the health badge beside the last action's name, statements, strategy."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QWidget

from viewer.models.performance_tables import NONE_TEXT, fmt_int, fmt_ms
from viewer.widgets.performance.badge import HealthBadge
from viewer.widgets.performance.bindings import Bindings
from viewer.widgets.performance.parts import caption, value_label


def _strategy(strategy: str | None) -> str:
    return strategy or NONE_TEXT


def _last_action_name(label: str | None, cancelled: bool | None, ok: bool | None) -> str:
    if label is None:
        return "No database action yet"
    if ok is False and not cancelled:
        return f"{label} (failed)"
    return label


class ActionHeader(QWidget):
    """The health badge, and the last action's name over its four key figures."""

    def __init__(self, bindings: Bindings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.health = HealthBadge()
        bindings.show(self.health.score, str, "health.score")
        bindings.show(self.health.band, str, "health.band")

        self.last_name = value_label("lastActionName")
        bold = self.last_name.font()
        bold.setBold(True)
        self.last_name.setFont(bold)
        self.last_name.setWordWrap(True)
        bindings.show(
            self.last_name,
            _last_action_name,
            "last_action.label",
            "last_action.cancelled",
            "last_action.ok",
        )
        facts = QGridLayout()
        facts.setHorizontalSpacing(14)
        facts.setVerticalSpacing(2)
        facts.addWidget(self.last_name, 0, 0, 1, 4)
        self.last_statements = value_label("lastActionStatements")
        self.last_strategy = value_label("lastActionStrategy")
        self.last_time = value_label("lastActionTime")
        self.last_rows = value_label("lastActionRows")
        fields: tuple[tuple[str, QLabel, Callable[..., str], str], ...] = (
            ("Statements", self.last_statements, fmt_int, "last_action.statement_count"),
            ("Strategy", self.last_strategy, _strategy, "last_action.strategy"),
            ("Total time", self.last_time, fmt_ms, "last_action.duration_ms"),
            ("Rows", self.last_rows, fmt_int, "last_action.rows"),
        )
        for col, (text, label, fmt, path) in enumerate(fields):
            facts.addWidget(caption(text), 1, col)
            value_font = label.font()
            value_font.setPointSizeF(value_font.pointSizeF() * 1.25)
            value_font.setBold(True)
            label.setFont(value_font)
            facts.addWidget(label, 2, col)
            bindings.show(label, fmt, path)
        facts.setColumnStretch(4, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(self.health, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(facts, 1)
