"""The Statements tab: the last actions' statements with similar and duplicate counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from db.diagnostics.figures import Figures
from viewer.models.performance_tables import StatementTableModel
from viewer.widgets.performance.bindings import Bindings
from viewer.widgets.performance.parts import table_view, value_label


def _statements_summary(actions: Sequence[Any], statements: Sequence[Any], truncated: int) -> str:
    similar = sum(a.similar for a in actions)
    duplicates = sum(a.duplicates for a in actions)
    text = (
        f"{len(statements) + truncated:,} statements in the last {len(actions)} actions, "
        f"{similar:,} similar, {duplicates:,} duplicates"
    )
    return text + (f" ({truncated:,} more not listed)" if truncated else "")


class StatementsTab(QWidget):
    """A summary line over one row per statement of the last actions."""

    def __init__(self, bindings: Bindings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.statements_summary = value_label("statementsSummary")
        self.statements_summary.setWordWrap(True)
        bindings.show(
            self.statements_summary,
            _statements_summary,
            "actions",
            "statements",
            "statements_truncated",
        )
        layout.addWidget(self.statements_summary)
        self.statement_model = bindings.table("statements", StatementTableModel(self))
        self.statement_table = table_view(self.statement_model, stretch=2, widths={0: 190})
        # "load_media inspection=INS-2026-0412": both ends say which load it was.
        self.statement_table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.statement_table.setObjectName("statementTable")
        layout.addWidget(self.statement_table, 1)

    def show_figures(self, figures: Figures) -> None:
        self.statement_model.n_plus_one_threshold = figures.settings.n_plus_one_threshold
