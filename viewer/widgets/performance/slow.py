"""The Slow tab: statements at or over a threshold the user sets, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from viewer.models.performance_tables import SlowStatementModel, fmt_ms
from viewer.widgets.performance.bindings import Bindings
from viewer.widgets.performance.parts import message_label, table_view, value_label


def _slow_summary(rows: Sequence[Any], limit: int) -> str:
    return f"{len(rows):,} kept (the newest {limit:,})"


def _slow_empty(rows: Sequence[Any], threshold_ms: float) -> str:
    if rows:
        return ""
    return f"No statement has taken {fmt_ms(threshold_ms)} or more since the counters started."


class SlowTab(QWidget):
    """The threshold, how many slow statements are kept, and the list itself."""

    def __init__(
        self, bindings: Bindings, threshold_ms: float, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        row = QHBoxLayout()
        row.addWidget(QLabel(self.tr("Statements at or over")))
        self.slow_threshold = QDoubleSpinBox()
        self.slow_threshold.setObjectName("slowThreshold")
        self.slow_threshold.setRange(1, 60_000)
        self.slow_threshold.setDecimals(0)
        self.slow_threshold.setSuffix(" ms")
        self.slow_threshold.setValue(threshold_ms)
        self.slow_threshold.setToolTip(
            self.tr("Applies to statements of actions that finish from now on")
        )
        row.addWidget(self.slow_threshold)
        self.slow_summary = value_label("slowSummary")
        bindings.show(self.slow_summary, _slow_summary, "slow.rows", "slow.limit")
        row.addWidget(self.slow_summary, 1)
        layout.addLayout(row)
        self.slow_model = bindings.table("slow.rows", SlowStatementModel(self))
        self.slow_empty = message_label()
        self.slow_empty.setObjectName("slowEmpty")
        bindings.show(
            self.slow_empty, _slow_empty, "slow.rows", "slow.threshold_ms", hide_empty=True
        )
        layout.addWidget(self.slow_empty)
        self.slow_table = table_view(self.slow_model, stretch=3, widths={2: 170})
        self.slow_table.setObjectName("slowTable")
        layout.addWidget(self.slow_table, 1)
