"""The Server tab: on demand, EXPLAIN of the media query, index usage, function timings, top SQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from db.diagnostics.figures import ServerReport
from viewer.models.performance_tables import (
    FigureTableModel,
    FunctionStatsModel,
    IndexUsageModel,
    TopStatementModel,
    fmt_clock,
    fmt_int,
    fmt_ms,
)
from viewer.widgets.performance.bindings import Bindings
from viewer.widgets.performance.parts import message_label, table_view

BATCH_LOG_TIP = (
    "The log get_inspection_media_batch keeps of its own calls (bench, scripts). The window "
    "loads through get_inspection_media_stream, which streams its rows and cannot log: its "
    "server time is under pg_stat_statements."
)


def _server_status(report: ServerReport | None) -> str:
    if report is None:
        return "Press Refresh to ask the database server."
    if not report.available:
        return report.message or "Not available."
    return (
        f"As of {fmt_clock(report.taken_at)}: {report.statements} statements in "
        f"{fmt_ms(report.duration_ms)}, not counted as actions."
    )


def _explain_summary(report: ServerReport | None) -> str:
    if report is None:
        return ""
    if not report.available:
        return report.message or ""
    explain = report.explain
    if explain is None:
        return report.explain_error or ""
    used = ", ".join(explain.indexes) if explain.indexes else "none (sequential scans only)"
    return (
        f"Batch query for {explain.inspection}. Indexes used: {used}. "
        f"Execution {fmt_ms(explain.execution_ms)}, planning {fmt_ms(explain.planning_ms)}, "
        f"buffers hit {fmt_int(explain.shared_hit)}, read {fmt_int(explain.shared_read)}."
    )


def _explain_plan(report: ServerReport | None) -> str:
    return "" if report is None or report.explain is None else report.explain.plan


def _server_message(part: str) -> Callable[[ServerReport | None], str]:
    def message(report: ServerReport | None) -> str:
        if report is None:
            return ""
        if not report.available:
            return report.message or ""
        return str(getattr(report, f"{part}_error") or "")

    return message


class ServerTab(QWidget):
    """A Refresh button and status line over four sub-tabs; the panel connects the button."""

    def __init__(self, bindings: Bindings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bindings = bindings
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        row = QHBoxLayout()
        self.server_button = QPushButton(self.tr("Refresh"))
        self.server_button.setObjectName("serverRefresh")
        self.server_button.setToolTip(
            "Ask the database server (these queries are not counted as actions)"
        )
        row.addWidget(self.server_button)
        self.server_status = QLabel()
        self.server_status.setObjectName("serverStatus")
        self.server_status.setWordWrap(True)
        bindings.show(self.server_status, _server_status, "server")
        row.addWidget(self.server_status, 1)
        layout.addLayout(row)

        self.server_tabs = QTabWidget()
        self.server_tabs.setDocumentMode(True)
        self.server_tabs.addTab(self._explain_tab(), "EXPLAIN")
        self.index_model = IndexUsageModel(self)
        self.function_model = FunctionStatsModel(self)
        self.top_model = TopStatementModel(self)
        self.server_messages: dict[str, QLabel] = {}
        self._table_tab("indexes", self.index_model, "Index usage", 0)
        self._table_tab("functions", self.function_model, "Batch function", 0, BATCH_LOG_TIP)
        self._table_tab("top", self.top_model, "pg_stat_statements", 5)
        layout.addWidget(self.server_tabs, 1)

    def _explain_tab(self) -> QWidget:
        explain = QWidget()
        explain_layout = QVBoxLayout(explain)
        explain_layout.setContentsMargins(0, 4, 0, 0)
        self.explain_indexes = QLabel()
        self.explain_indexes.setObjectName("explainIndexes")
        self.explain_indexes.setWordWrap(True)
        self.explain_indexes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bindings.show(self.explain_indexes, _explain_summary, "server")
        explain_layout.addWidget(self.explain_indexes)
        self.explain_text = QPlainTextEdit()
        self.explain_text.setObjectName("explainText")
        self.explain_text.setReadOnly(True)
        self.explain_text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.explain_text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.bindings.show(self.explain_text, _explain_plan, "server")
        explain_layout.addWidget(self.explain_text, 1)
        return explain

    def _table_tab(
        self, key: str, model: FigureTableModel[Any], title: str, stretch: int, tip: str = ""
    ) -> None:
        tab = QWidget()
        tab_layout = QVBoxLayout(tab)
        tab_layout.setContentsMargins(0, 4, 0, 0)
        message = message_label()
        message.setObjectName(f"server_{key}_message")
        self.server_messages[key] = message
        self.bindings.show(message, _server_message(key), "server", hide_empty=True)
        self.bindings.table(f"server.{key}", model)
        tab_layout.addWidget(message)
        view = table_view(model, stretch=stretch)
        view.setObjectName(f"server_{key}_table")
        tab_layout.addWidget(view, 1)
        index = self.server_tabs.addTab(tab, title)
        self.server_tabs.setTabToolTip(index, tip)
