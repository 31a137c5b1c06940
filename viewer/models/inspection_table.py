"""The inspection list as a table model over frozen InspectionSummary records."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from db.records import InspectionSort, InspectionSummary

RecordRole = Qt.ItemDataRole.UserRole + 1

STATUS_LABELS = {
    "draft": "Draft",
    "in_progress": "In progress",
    "completed": "Completed",
    "archived": "Archived",
}


class Column(IntEnum):
    REFERENCE = 0
    SITE = 1
    INSPECTOR = 2
    STATUS = 3
    DATE = 4
    MEDIA = 5


HEADERS = {
    Column.REFERENCE: "Reference",
    Column.SITE: "Site",
    Column.INSPECTOR: "Inspector",
    Column.STATUS: "Status",
    Column.DATE: "Scheduled",
    Column.MEDIA: "Photos",
}

# Columns the server can sort by (each has an index), and the orders they toggle between.
SORTS: dict[Column, tuple[InspectionSort, InspectionSort]] = {
    Column.DATE: (InspectionSort.OLDEST, InspectionSort.NEWEST),
    Column.REFERENCE: (InspectionSort.REFERENCE, InspectionSort.REFERENCE_DESC),
    Column.STATUS: (InspectionSort.STATUS, InspectionSort.STATUS),
}

_Index = QModelIndex | QPersistentModelIndex


class InspectionTableModel(QAbstractTableModel):
    """Rows arrive a page at a time: the view asks for more as it scrolls (fetchMore), the
    model asks its owner through `more_requested`, and the owner appends the page."""

    more_requested = Signal()
    sort_requested = Signal(object)  # InspectionSort

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[InspectionSummary] = []
        self._has_more = False
        self._fetching = False

    def set_rows(self, rows: Sequence[InspectionSummary], *, has_more: bool = False) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._has_more = has_more
        self._fetching = False
        self.endResetModel()

    def append_rows(self, rows: Sequence[InspectionSummary], *, has_more: bool) -> None:
        self._fetching = False
        self._has_more = has_more
        if not rows:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self._rows.extend(rows)
        self.endInsertRows()

    def exhausted(self) -> bool:
        """Every page is here: none pending and none left on the server."""
        return not self._has_more and not self._fetching

    def fetch_failed(self) -> None:
        self._fetching = False

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._has_more and not self._fetching

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._fetching = True
            self.more_requested.emit()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        # Sorting happens on the server (keyset pages), never by reshuffling loaded rows.
        sorts = SORTS.get(Column(column)) if 0 <= column < len(Column) else None
        if sorts is not None:
            ascending = order == Qt.SortOrder.AscendingOrder
            self.sort_requested.emit(sorts[0] if ascending else sorts[1])

    def record(self, row: int) -> InspectionSummary | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, inspection_id: int) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == inspection_id), -1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS.get(Column(section)) if 0 <= section < len(Column) else None
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        rec = self._rows[index.row()]
        col = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(rec, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{rec.reference_code}\n{rec.site_name}\n{rec.address}"
        if role == Qt.ItemDataRole.TextAlignmentRole and col == Column.MEDIA:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == RecordRole:
            return rec
        return None

    @staticmethod
    def _display(rec: InspectionSummary, col: Column) -> str:
        match col:
            case Column.REFERENCE:
                return rec.reference_code
            case Column.SITE:
                return rec.site_name
            case Column.INSPECTOR:
                return rec.inspector_name
            case Column.STATUS:
                return STATUS_LABELS.get(rec.status, rec.status)
            case Column.DATE:
                return rec.scheduled_at.strftime("%Y-%m-%d")
            case Column.MEDIA:
                return f"{rec.media_count:,}"
