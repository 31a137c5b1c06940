"""The inspection list pane: search, status filter, sortable paged table."""

from __future__ import annotations

from PySide6.QtCore import (
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from db.records import InspectionQuery, InspectionSort
from viewer.models.inspection_table import STATUS_LABELS, Column, InspectionTableModel

SEARCH_DEBOUNCE_MS = 250


class InspectionListPane(QWidget):
    """Search box, status filter and the paged table."""

    query_changed = Signal(object)  # InspectionQuery

    def __init__(self, model: InspectionTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._sort = InspectionSort.NEWEST
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText(self.tr("Search reference, site or address  (Ctrl+F)"))
        self.search.setAccessibleName(self.tr("Search inspections"))
        self.search.setClearButtonEnabled(True)
        self.status = QComboBox()
        self.status.setObjectName("statusFilter")
        self.status.setAccessibleName(self.tr("Status filter"))
        self.status.addItem(self.tr("All statuses"), None)
        for value, label in STATUS_LABELS.items():
            self.status.addItem(label, value)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._emit_query)
        self.search.textChanged.connect(lambda _text: self._debounce.start())
        self.status.currentIndexChanged.connect(self._emit_query)
        model.sort_requested.connect(self._on_sort)

        self.table = self._make_table(model)
        self.table.setAccessibleName(self.tr("Inspections"))
        self.empty = QLabel(self.tr("No inspections match"))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("color: #707070;")
        self.empty.setVisible(False)

        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)

    def _make_table(self, model: InspectionTableModel) -> QTableView:
        table = QTableView()
        table.setObjectName("inspectionTable")
        table.setModel(model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # Several rows can be selected to take them offline together; the current row is the
        # one the other panes show.
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(24)
        table.setSortingEnabled(True)
        header = table.horizontalHeader()
        header.setSortIndicator(Column.DATE, Qt.SortOrder.DescendingOrder)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(Column.SITE, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(48)
        for col, width in (
            (Column.REFERENCE, 112),
            (Column.INSPECTOR, 120),
            (Column.STATUS, 84),
            (Column.DATE, 84),
            (Column.MEDIA, 52),
        ):
            header.resizeSection(col, width)
        # Reference, site, status, date and photos fit the default width; the inspector is a
        # right-click on the header away (and the choice is remembered with the window).
        table.setColumnHidden(Column.INSPECTOR, True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._column_menu)
        return table

    def _column_menu(self, pos: QPoint) -> None:
        header = self.table.horizontalHeader()
        menu = QMenu(self)
        for column in Column:
            if column in (Column.REFERENCE, Column.SITE):
                continue  # what a row is: always shown
            action = menu.addAction(str(self.model.headerData(column, Qt.Orientation.Horizontal)))
            action.setCheckable(True)
            action.setChecked(not self.table.isColumnHidden(column))
            action.toggled.connect(lambda shown, c=column: self.table.setColumnHidden(c, not shown))
        menu.exec(header.mapToGlobal(pos))

    def query(self) -> InspectionQuery:
        return InspectionQuery(
            search=self.search.text().strip(), status=self.status.currentData(), sort=self._sort
        )

    def _on_sort(self, sort: InspectionSort) -> None:
        if sort != self._sort:
            self._sort = sort
            self._emit_query()

    def _emit_query(self) -> None:
        self._debounce.stop()
        self.query_changed.emit(self.query())
