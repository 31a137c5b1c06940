"""The performance panel's tables: one model per table, rows are db.diagnostics figures."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from db.diagnostics.analysis import short_sql
from db.diagnostics.figures import LatencyRow, SlowRow, StatementRow, TopStatement
from db.performance import IndexUsage, QueryPerformance

R = TypeVar("R")
_Index = QModelIndex | QPersistentModelIndex

RowRole = Qt.ItemDataRole.UserRole + 1  # the row's figure object

SLOW_BACKGROUND = QColor("#fde2e1")
SLOW_FOREGROUND = QColor("#8a1c13")
REPEATED_BACKGROUND = QColor("#fff4d6")
ERROR_FOREGROUND = QColor("#b3261e")
NONE_TEXT = "\u2013"  # an en dash: nothing measured yet


# --- formatting, shared with the panel (and its tests) ------------------------------------------


def fmt_ms(value: float | None) -> str:
    if value is None:
        return NONE_TEXT
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def fmt_int(value: int | None) -> str:
    return NONE_TEXT if value is None else f"{value:,}"


def fmt_rate(value: float | None) -> str:
    return NONE_TEXT if value is None else f"{value:.1%}"


def fmt_bytes(value: int | None) -> str:
    if value is None:
        return NONE_TEXT
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def fmt_clock(epoch: float | None) -> str:
    return NONE_TEXT if epoch is None else time.strftime("%H:%M:%S", time.localtime(epoch))


def fmt_text(value: str | None) -> str:
    return value or NONE_TEXT


# --- the models -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column(Generic[R]):
    header: str
    text: Callable[[R], str]
    numeric: bool = False
    tooltip: Callable[[R], str] | None = None


class FigureTableModel(QAbstractTableModel, Generic[R]):
    """Rows of frozen figures, replaced as a whole by `set_rows` (only when they changed)."""

    COLUMNS: tuple[Column[R], ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: tuple[R, ...] = ()

    def set_rows(self, rows: Sequence[R]) -> bool:
        """Replace the rows; False (and no reset, so selection and scrolling stay) if equal."""
        new = tuple(rows)
        if new == self._rows:
            return False
        self.beginResetModel()
        self._rows = new
        self.endResetModel()
        return True

    def rows(self) -> tuple[R, ...]:
        return self._rows

    def row(self, row: int) -> R | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.COLUMNS):
            return None
        column = self.COLUMNS[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.header
        if role == Qt.ItemDataRole.TextAlignmentRole:
            side = Qt.AlignmentFlag.AlignRight if column.numeric else Qt.AlignmentFlag.AlignLeft
            return int(side | Qt.AlignmentFlag.AlignVCenter)
        return None

    def text(self, row: int, column: int) -> str:
        """What the cell shows (tests compare it with the exported figures)."""
        record = self._rows[row]
        return self.COLUMNS[column].text(record)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(self.COLUMNS):
            return None
        record = self._rows[index.row()]
        column = self.COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip(record) if column.tooltip else column.text(record)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            side = Qt.AlignmentFlag.AlignRight if column.numeric else Qt.AlignmentFlag.AlignLeft
            return int(side | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            background = self.background(record)
            return None if background is None else QBrush(background)
        if role == Qt.ItemDataRole.ForegroundRole:
            foreground = self.foreground(record)
            return None if foreground is None else QBrush(foreground)
        if role == RowRole:
            return record
        return None

    def background(self, record: R) -> QColor | None:
        return None

    def foreground(self, record: R) -> QColor | None:
        return None


def _statement_tooltip(row: StatementRow) -> str:
    lines = [row.sql, "", f"parameters: {row.parameters}"]
    if row.error:
        lines.append(f"error: {row.error}")
    return "\n".join(lines)


def _times(n: int) -> str:
    return "" if n <= 1 else f"\u00d7{n}"  # a multiplication sign: "x3"


class StatementTableModel(FigureTableModel[StatementRow]):
    """The statements of the last actions, Django Debug Toolbar style."""

    COLUMNS = (
        Column[StatementRow]("Action", lambda r: r.action if r.position == 1 else ""),
        Column[StatementRow]("#", lambda r: str(r.position), numeric=True),
        Column[StatementRow]("SQL", lambda r: short_sql(r.sql), tooltip=_statement_tooltip),
        Column[StatementRow]("Time", lambda r: fmt_ms(r.duration_ms), numeric=True),
        Column[StatementRow]("Rows", lambda r: fmt_int(r.rows), numeric=True),
        Column[StatementRow](
            "Similar",
            lambda r: _times(r.similar),
            numeric=True,
            tooltip=lambda r: f"{r.similar} statements of this action with the same SQL",
        ),
        Column[StatementRow](
            "Dup.",
            lambda r: _times(r.duplicates),
            numeric=True,
            tooltip=lambda r: f"{r.duplicates} with the same SQL and the same parameters",
        ),
    )

    def __init__(self, parent: QObject | None = None, n_plus_one_threshold: int = 5) -> None:
        super().__init__(parent)
        self.n_plus_one_threshold = n_plus_one_threshold

    def background(self, record: StatementRow) -> QColor | None:
        if record.slow:
            return SLOW_BACKGROUND
        if record.similar >= self.n_plus_one_threshold:
            return REPEATED_BACKGROUND
        return None

    def foreground(self, record: StatementRow) -> QColor | None:
        return ERROR_FOREGROUND if record.error else None


class SlowStatementModel(FigureTableModel[SlowRow]):
    """Statements over the slow threshold, newest first."""

    COLUMNS = (
        Column[SlowRow]("When", lambda r: fmt_clock(r.finished_at)),
        Column[SlowRow]("Time", lambda r: fmt_ms(r.duration_ms), numeric=True),
        Column[SlowRow]("Action", lambda r: r.action),
        Column[SlowRow](
            "SQL",
            lambda r: short_sql(r.sql),
            tooltip=lambda r: f"{r.sql}\n\nparameters: {r.parameters}",
        ),
        Column[SlowRow]("Rows", lambda r: fmt_int(r.rows), numeric=True),
    )

    def background(self, record: SlowRow) -> QColor | None:
        return SLOW_BACKGROUND

    def foreground(self, record: SlowRow) -> QColor | None:
        return SLOW_FOREGROUND


class LatencyTableModel(FigureTableModel[LatencyRow]):
    """p50, p95, p99 and max over the rolling windows."""

    COLUMNS = (
        Column[LatencyRow]("", lambda r: r.title),
        Column[LatencyRow]("n", lambda r: fmt_int(r.count), numeric=True),
        Column[LatencyRow]("p50", lambda r: fmt_ms(r.p50_ms), numeric=True),
        Column[LatencyRow]("p95", lambda r: fmt_ms(r.p95_ms), numeric=True),
        Column[LatencyRow]("p99", lambda r: fmt_ms(r.p99_ms), numeric=True),
        Column[LatencyRow]("max", lambda r: fmt_ms(r.max_ms), numeric=True),
    )

    def __init__(self, parent: QObject | None = None, slow_threshold_ms: float = 500.0) -> None:
        super().__init__(parent)
        self.slow_threshold_ms = slow_threshold_ms

    def foreground(self, record: LatencyRow) -> QColor | None:
        slow = record.p95_ms is not None and record.p95_ms >= self.slow_threshold_ms
        return SLOW_FOREGROUND if slow else None


class FunctionStatsModel(FigureTableModel[QueryPerformance]):
    """analyze_query_performance(): the batch function's own timing log."""

    COLUMNS = (
        Column[QueryPerformance]("Function", lambda r: r.function_name),
        Column[QueryPerformance]("Calls", lambda r: fmt_int(r.calls), numeric=True),
        Column[QueryPerformance]("Mean", lambda r: fmt_ms(r.mean_ms), numeric=True),
        Column[QueryPerformance]("p50", lambda r: fmt_ms(r.p50_ms), numeric=True),
        Column[QueryPerformance]("p95", lambda r: fmt_ms(r.p95_ms), numeric=True),
        Column[QueryPerformance]("p99", lambda r: fmt_ms(r.p99_ms), numeric=True),
        Column[QueryPerformance]("Max", lambda r: fmt_ms(r.max_ms), numeric=True),
    )


class IndexUsageModel(FigureTableModel[IndexUsage]):
    """verify_index_usage(): scans of our indexes since statistics were last reset."""

    COLUMNS = (
        Column[IndexUsage]("Index", lambda r: r.index_name),
        Column[IndexUsage]("Table", lambda r: r.table_name),
        Column[IndexUsage]("Scans", lambda r: fmt_int(r.idx_scan), numeric=True),
        Column[IndexUsage]("Tuples read", lambda r: fmt_int(r.idx_tup_read), numeric=True),
        Column[IndexUsage]("Size", lambda r: r.index_size, numeric=True),
        Column[IndexUsage]("Used", lambda r: r.used),
    )

    def foreground(self, record: IndexUsage) -> QColor | None:
        return QColor("#8a6d00") if record.used != "yes" else None


class TopStatementModel(FigureTableModel[TopStatement]):
    """pg_stat_statements: our statements by total time."""

    COLUMNS = (
        Column[TopStatement]("Total", lambda r: fmt_ms(r.total_ms), numeric=True),
        Column[TopStatement]("Calls", lambda r: fmt_int(r.calls), numeric=True),
        Column[TopStatement]("Mean", lambda r: fmt_ms(r.mean_ms), numeric=True),
        Column[TopStatement]("Rows", lambda r: fmt_int(r.rows), numeric=True),
        Column[TopStatement](
            "Cache hit",
            lambda r: fmt_rate(
                r.shared_hit / (r.shared_hit + r.shared_read)
                if r.shared_hit + r.shared_read
                else None
            ),
            numeric=True,
        ),
        Column[TopStatement]("Query", lambda r: short_sql(r.query), tooltip=lambda r: r.query),
    )
