"""The main window: inspections, the selected inspection's checklist, and its photos."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QItemSelection,
    QModelIndex,
    QPoint,
    QSettings,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from db.queries import InspectionQuery, InspectionSort
from db.records import ChecklistEntry, InspectionSummary, MediaItem
from viewer import __version__
from viewer.models.checklist_tree import ChecklistTreeModel, ScopeRole
from viewer.models.checklist_tree import Column as ChecklistColumn
from viewer.models.inspection_table import STATUS_LABELS, Column, InspectionTableModel
from viewer.models.media_grid import MediaGridModel, loading_tile
from viewer.widgets.thumbnail_delegate import ThumbnailDelegate

# Thumbnails are decoded at 256 px, so the grid shows them unscaled: no resampling per paint.
GRID_ICON = QSize(256, 192)
GRID_CELL = QSize(266, 220)
SEARCH_DEBOUNCE_MS = 250
STARTUP_WIDTH = 620
# How far beyond the visible rows the grid asks for thumbnails ahead of a scroll.
PREFETCH_ROWS = 12


class StartupPage(QWidget):
    """What the window shows while the database starts, migrates or fills; and if that fails."""

    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel("Starting...")
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
        self.retry = QPushButton("Retry")
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
        self.message.setText("Inspection Viewer could not open the database")
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
        self.retry = QPushButton("Retry")
        self.retry.clicked.connect(self.retry_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.retry)
        self.setVisible(False)

    def show_error(self, message: str) -> None:
        self.text.setText(message)
        self.setVisible(True)


class InspectionListPane(QWidget):
    """Search box, status filter and the paged table."""

    query_changed = Signal(object)  # InspectionQuery

    def __init__(self, model: InspectionTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._sort = InspectionSort.NEWEST
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search reference, site or address  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.status = QComboBox()
        self.status.setObjectName("statusFilter")
        self.status.addItem("All statuses", None)
        for value, label in STATUS_LABELS.items():
            self.status.addItem(label, value)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._emit_query)
        self.search.textChanged.connect(lambda _text: self._debounce.start())
        self.status.currentIndexChanged.connect(self._emit_query)
        model.sort_requested.connect(self._on_sort)

        self.table = QTableView()
        self.table.setObjectName("inspectionTable")
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # Several rows can be selected to take them offline together; the current row is the
        # one the other panes show.
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setSortingEnabled(True)
        header = self.table.horizontalHeader()
        header.setSortIndicator(Column.DATE, Qt.SortOrder.DescendingOrder)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(Column.SITE, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(48)
        for col, width in (
            (Column.REFERENCE, 118),
            (Column.INSPECTOR, 120),
            (Column.STATUS, 88),
            (Column.DATE, 86),
            (Column.MEDIA, 56),
        ):
            header.resizeSection(col, width)
        self.empty = QLabel("No inspections match")
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


class MediaPane(QWidget):
    """The photos of the selected inspection or checklist item, with their states."""

    visible_rows_changed = Signal(int, int)  # first, last (prefetch margin included)
    open_requested = Signal(int)  # row

    def __init__(self, model: MediaGridModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.title = QLabel("Photos")
        self.title.setObjectName("mediaTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.status = QLabel()
        self.status.setObjectName("mediaStatus")
        self.status.setStyleSheet("color: #505050;")
        self.banner = ErrorBanner()
        self.grid = QListView()
        self.grid.setObjectName("mediaGrid")
        self.grid.setModel(model)
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setUniformItemSizes(True)
        self.grid.setIconSize(GRID_ICON)
        self.grid.setGridSize(GRID_CELL)
        self.grid.setItemDelegate(ThumbnailDelegate(GRID_CELL, GRID_ICON, self.grid))
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setWordWrap(False)
        self.grid.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.grid.verticalScrollBar().setSingleStep(40)
        self.grid.activated.connect(lambda index: self.open_requested.emit(index.row()))
        self.grid.doubleClicked.connect(lambda index: self.open_requested.emit(index.row()))
        self.message = QLabel("Select an inspection")
        self.message.setObjectName("mediaMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet("color: #707070; font-size: 14px;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.grid)

        # Scrolling and resizing settle before thumbnails are asked for.
        self._visible_timer = QTimer(self)
        self._visible_timer.setSingleShot(True)
        self._visible_timer.setInterval(30)
        self._visible_timer.timeout.connect(self._emit_visible)
        # Not connected to start() directly: valueChanged(int) would pick the start(msec)
        # overload and set the delay to the scroll position.
        self.grid.verticalScrollBar().valueChanged.connect(lambda _v: self._visible_timer.start())
        model.layoutChanged.connect(self._visible_timer.start)

        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._visible_timer.start()

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    def show_grid(self) -> None:
        self.stack.setCurrentWidget(self.grid)
        # New photos: lay the grid out now and ask for the visible thumbnails at once. The
        # debounce is for scrolling; here it would be 30 ms added to every selection.
        self._visible_timer.stop()
        self.grid.doItemsLayout()
        self._emit_visible()

    def visible_rows(self) -> tuple[int, int] | None:
        """The rows in the viewport now, without the prefetch margin."""
        count = self.model.rowCount()
        if count == 0 or self.stack.currentWidget() is not self.grid:
            return None
        viewport = self.grid.viewport().rect()
        first = self.grid.indexAt(viewport.topLeft() + _inset(4)).row()
        last_index = self.grid.indexAt(viewport.bottomRight() - _inset(4))
        last = last_index.row() if last_index.isValid() else count - 1
        # The bottom-right corner may fall between cells: scan back for the last visible one.
        if not last_index.isValid():
            per_row = max(1, viewport.width() // GRID_CELL.width())
            rows = viewport.height() // GRID_CELL.height() + 2
            last = min(count - 1, max(first, 0) + per_row * rows)
        return max(first, 0), last

    def _emit_visible(self) -> None:
        rows = self.visible_rows()
        if rows is not None:
            self.visible_rows_changed.emit(*rows)


def _inset(n: int) -> QPoint:
    return QPoint(n, n)


class MainWindow(QMainWindow):
    """Three panes in a splitter. It renders what the controller gives it and reports what the
    user does; it never touches the database."""

    query_changed = Signal(object)  # InspectionQuery
    inspection_selected = Signal(object)  # InspectionSummary | None
    scope_selected = Signal(object)  # ("all", None) | ("section", name) | ("item", id)
    refresh_requested = Signal()
    retry_requested = Signal()
    media_retry_requested = Signal()
    open_database_requested = Signal()
    open_bundle_requested = Signal()
    take_offline_requested = Signal()
    performance_panel_requested = Signal()

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._shown_id: int | None = None
        self.performance_panel: QDockWidget | None = None
        self.setWindowTitle("Inspection Viewer")
        self.setObjectName("mainWindow")
        self.inspections = InspectionTableModel(self)
        self.checklist = ChecklistTreeModel(self)
        self.media = MediaGridModel(loading_tile(GRID_ICON.width(), GRID_ICON.height()), self)

        self.startup = StartupPage()
        self.startup.retry_requested.connect(self.retry_requested)

        self.list_pane = InspectionListPane(self.inspections)
        self.list_pane.query_changed.connect(self.query_changed)
        self.table = self.list_pane.table
        self.table.selectionModel().selectionChanged.connect(self._on_inspection_selection)

        self.inspection_title = QLabel("No inspection selected")
        self.inspection_title.setObjectName("inspectionTitle")
        font = self.inspection_title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.inspection_title.setFont(font)
        self.inspection_facts = QLabel()
        self.inspection_facts.setWordWrap(True)
        self.inspection_facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.inspection_facts.setStyleSheet("color: #404040;")
        self.tree = QTreeView()
        self.tree.setObjectName("checklistTree")
        self.tree.setModel(self.checklist)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setAllColumnsShowFocus(True)
        tree_header = self.tree.header()
        tree_header.setStretchLastSection(True)
        tree_header.resizeSection(ChecklistColumn.TITLE, 220)
        tree_header.resizeSection(ChecklistColumn.RESULT, 84)
        tree_header.resizeSection(ChecklistColumn.PHOTOS, 52)
        self.tree.selectionModel().currentChanged.connect(self._on_scope_changed)
        self.checklist_banner = ErrorBanner()
        self.checklist_banner.retry_requested.connect(self.media_retry_requested)
        checklist_pane = QWidget()
        checklist_layout = QVBoxLayout(checklist_pane)
        checklist_layout.setContentsMargins(0, 0, 0, 0)
        checklist_layout.addWidget(self.inspection_title)
        checklist_layout.addWidget(self.inspection_facts)
        checklist_layout.addWidget(self.checklist_banner)
        checklist_layout.addWidget(self.tree, 1)

        self.media_pane = MediaPane(self.media)
        self.media_pane.banner.retry_requested.connect(self.media_retry_requested)
        self.grid = self.media_pane.grid

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.list_pane)
        self.splitter.addWidget(checklist_pane)
        self.splitter.addWidget(self.media_pane)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 4)
        self.splitter.setSizes([470, 390, 580])

        main = QWidget()
        layout = QHBoxLayout(main)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.startup)
        self.pages.addWidget(main)
        self.setCentralWidget(self.pages)

        self.load_label = QLabel()
        self.load_label.setObjectName("loadLabel")
        self.database_label = QLabel()
        self.database_label.setObjectName("databaseLabel")
        self.statusBar().addPermanentWidget(self.load_label)
        self.statusBar().addPermanentWidget(self.database_label)
        self._build_menus()
        self._restore_settings()

    # --- menus and keys -------------------------------------------------------------------

    def _build_menus(self) -> None:
        def action(
            text: str, shortcut: QKeySequence.StandardKey | str | None, slot: Any
        ) -> QAction:
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            return act

        file_menu = self.menuBar().addMenu("&File")
        self.open_database_action = action(
            "Open &Database URL...", None, self.open_database_requested
        )
        file_menu.addAction(self.open_database_action)
        self.open_bundle_action = action(
            "Open &Offline Bundle...", "Ctrl+O", self.open_bundle_requested
        )
        file_menu.addAction(self.open_bundle_action)
        self.take_offline_action = action("&Take Offline...", None, self.take_offline_requested)
        file_menu.addAction(self.take_offline_action)
        self.file_menu = file_menu
        file_menu.addSeparator()
        file_menu.addAction(action("&Quit", QKeySequence.StandardKey.Quit, self.close))

        view_menu = self.menuBar().addMenu("&View")
        self.refresh_action = action("&Refresh", "F5", self.refresh_requested)
        view_menu.addAction(self.refresh_action)
        view_menu.addAction(action("&Find", QKeySequence.StandardKey.Find, self.focus_search))
        view_menu.addSeparator()
        self.performance_action = action(
            "&Performance Panel", "F12", self.performance_panel_requested
        )
        view_menu.addAction(self.performance_action)
        self.view_menu = view_menu

        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(action("&About Inspection Viewer", None, self._about))

    def add_performance_panel(self, panel: QDockWidget) -> None:
        """Dock the panel on the right: hidden unless the saved window state shows it, toggled
        by F12 and View > Performance Panel."""
        self.performance_panel = panel
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, panel)
        panel.hide()
        self.performance_action.setCheckable(True)
        self.performance_panel_requested.connect(self.toggle_performance_panel)
        # isHidden, not the visibility argument: a dock tabbed behind another is still open.
        panel.visibilityChanged.connect(
            lambda _visible: self.performance_action.setChecked(not panel.isHidden())
        )
        if self.settings is not None:
            state = self.settings.value("window/state")
            if isinstance(state, QByteArray):
                self.restoreState(state)
        self.performance_action.setChecked(not panel.isHidden())

    def toggle_performance_panel(self) -> None:
        panel = self.performance_panel
        if panel is None:
            return
        if panel.isHidden():
            panel.show()
            panel.raise_()
        else:
            panel.hide()
        self.performance_action.setChecked(not panel.isHidden())

    def focus_search(self) -> None:
        self.list_pane.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.list_pane.search.selectAll()

    def _about(self) -> None:
        import sys

        from PySide6 import __version__ as pyside_version
        from sqlalchemy import __version__ as sa_version

        QMessageBox.about(
            self,
            "About Inspection Viewer",
            f"<h3>Inspection Viewer {__version__}</h3>"
            "<p>Building inspections, their checklists and photos, loaded in one batch query.</p>"
            f"<p>Python {sys.version.split()[0]}<br>PySide6 {pyside_version}"
            f"<br>SQLAlchemy {sa_version}<br>Database: {self.database_label.text()}</p>",
        )

    # --- what the controller tells the window ---------------------------------------------

    def show_progress(self, text: str, done: int, total: int) -> None:
        self.pages.setCurrentWidget(self.startup)
        self.startup.show_progress(text, done, total)

    def show_startup_error(self, text: str) -> None:
        self.pages.setCurrentWidget(self.startup)
        self.startup.show_error(text)

    def show_main(self) -> None:
        self.pages.setCurrentIndex(1)

    def set_database_label(self, text: str) -> None:
        self.database_label.setText(text)

    def set_load_label(self, text: str) -> None:
        self.load_label.setText(text)

    def show_status(self, text: str, timeout_ms: int = 0) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def show_inspections(self, rows: Sequence[InspectionSummary], *, has_more: bool) -> None:
        self._shown_id = None
        self.inspections.set_rows(rows, has_more=has_more)
        self.list_pane.empty.setVisible(not rows)
        self.show_main()

    def append_inspections(self, rows: Sequence[InspectionSummary], *, has_more: bool) -> None:
        self.inspections.append_rows(rows, has_more=has_more)

    def selected_inspection(self) -> InspectionSummary | None:
        """The inspection the checklist and grid show: the current row if it is selected."""
        selection = self.table.selectionModel()
        current = selection.currentIndex()
        if current.isValid() and selection.isRowSelected(current.row()):
            return self.inspections.record(current.row())
        rows = selection.selectedRows()
        return self.inspections.record(rows[0].row()) if rows else None

    def selected_inspections(self) -> list[InspectionSummary]:
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [rec for row in rows if (rec := self.inspections.record(row)) is not None]

    def select_inspection_row(self, row: int) -> None:
        if 0 <= row < self.inspections.rowCount():
            self.table.selectRow(row)
            self.table.scrollTo(self.inspections.index(row, 0))

    def show_inspection(self, rec: InspectionSummary | None) -> None:
        self.checklist_banner.setVisible(False)
        self.media_pane.banner.setVisible(False)
        if rec is None:
            self.inspection_title.setText("No inspection selected")
            self.inspection_facts.setText("")
            self.checklist.clear()
            self.media.set_media([])
            self.media_pane.title.setText("Photos")
            self.media_pane.status.setText("")
            self.media_pane.show_message("Select an inspection")
            return
        self.inspection_title.setText(f"{rec.reference_code} · {rec.site_name}")
        when = rec.scheduled_at.strftime("%Y-%m-%d")
        done = f", completed {rec.completed_at:%Y-%m-%d}" if rec.completed_at else ""
        self.inspection_facts.setText(
            f"{rec.address}\n{rec.inspector_name} · "
            f"{STATUS_LABELS.get(rec.status, rec.status)} · scheduled {when}{done}"
        )
        self.checklist.clear()
        self.media.set_media([])
        self.media_pane.title.setText(f"{rec.media_count:,} photos")
        self.media_pane.status.setText("Loading...")
        self.media_pane.show_message("Loading photos...")

    def show_checklist(self, entries: Sequence[ChecklistEntry]) -> None:
        self.checklist.set_checklist(entries)
        self.tree.expandAll()
        self.tree.setCurrentIndex(self.checklist.all_media_index())

    def show_media(self, items: Sequence[MediaItem], title: str, empty_text: str) -> None:
        self.media_pane.banner.setVisible(False)
        self.media.set_media(items)
        self.media_pane.title.setText(title)
        if items:
            self.media_pane.show_grid()
        else:
            self.media_pane.show_message(empty_text)

    def set_media_status(self, text: str) -> None:
        self.media_pane.status.setText(text)

    def show_load_error(self, message: str) -> None:
        self.media_pane.status.setText("")
        self.media_pane.banner.show_error(message)
        self.media_pane.show_message("The photos could not be loaded")

    def current_scope(self) -> tuple[str, Any]:
        index = self.tree.currentIndex()
        scope = self.checklist.data(index, ScopeRole) if index.isValid() else None
        return scope if scope is not None else ("all", None)

    # --- user actions -----------------------------------------------------------------------

    def _on_inspection_selection(
        self, selected: QItemSelection, deselected: QItemSelection
    ) -> None:
        rec = self.selected_inspection()
        self.show_inspection(rec)
        self.inspection_selected.emit(rec)

    def _on_scope_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        scope = self.checklist.data(current, ScopeRole) if current.isValid() else None
        if scope is not None:
            self.scope_selected.emit(scope)

    # --- settings ---------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        if self.settings is None:
            return
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        splitter = self.settings.value("window/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)

    def save_settings(self) -> None:
        if self.settings is None:
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        if self.performance_panel is not None:
            self.settings.setValue("window/state", self.saveState())
        rec = self.selected_inspection()
        if rec is not None:
            self.settings.setValue("selection/inspection", rec.reference_code)
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        super().closeEvent(event)
