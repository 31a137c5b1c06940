"""The inspection list as a table model over frozen InspectionSummary records."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from db.records import InspectionSummary

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

_Index = QModelIndex | QPersistentModelIndex


class InspectionTableModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[InspectionSummary] = []

    def set_rows(self, rows: Sequence[InspectionSummary]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

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
