"""The main window: inspections, the selected inspection's checklist, and its photos."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QItemSelection,
    QModelIndex,
    QSettings,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QCloseEvent, QImage, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from db.records import ALL_MEDIA, ChecklistEntry, InspectionSummary, MediaItem, Scope
from viewer import __version__
from viewer.models.checklist_tree import ChecklistTreeModel, ScopeRole
from viewer.models.inspection_table import STATUS_LABELS, InspectionTableModel
from viewer.models.media_grid import MediaGridModel, loading_tile
from viewer.widgets.panes.checklist import ChecklistPane
from viewer.widgets.panes.inspection_list import InspectionListPane
from viewer.widgets.panes.media import DEFAULT_THUMBNAIL_PX, PREFETCH_ROWS, MediaPane
from viewer.widgets.panes.startup import StartupPage
from viewer.words import count

__all__ = ["PREFETCH_ROWS", "MainWindow"]


class MainWindow(QMainWindow):
    """Three panes in a splitter. It renders what the controller gives it and reports what the
    user does; it never touches the database."""

    query_changed = Signal(object)  # InspectionQuery
    inspection_selected = Signal(object)  # InspectionSummary | None
    scope_selected = Signal(object)  # Scope: the user picked a row of the checklist tree
    refresh_requested = Signal()
    retry_requested = Signal()
    media_retry_requested = Signal()
    open_database_requested = Signal()
    open_bundle_requested = Signal()
    take_offline_requested = Signal()
    export_report_requested = Signal()
    performance_panel_requested = Signal()

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.performance_panel: QDockWidget | None = None
        self.setWindowTitle(self.tr("Inspection Viewer"))
        self.setObjectName("mainWindow")
        self.inspections = InspectionTableModel(self)
        self.checklist = ChecklistTreeModel(self)
        self.media = MediaGridModel(_tile_for(DEFAULT_THUMBNAIL_PX), self)

        self.startup = StartupPage()
        self.startup.retry_requested.connect(self.retry_requested)

        self.list_pane = InspectionListPane(self.inspections)
        self.list_pane.query_changed.connect(self.query_changed)
        self.table = self.list_pane.table
        self.table.selectionModel().selectionChanged.connect(self._on_inspection_selection)

        self.checklist_pane = checklist_pane = ChecklistPane(self.checklist)
        self.inspection_title = checklist_pane.title
        self.inspection_facts = checklist_pane.facts
        self.tree = checklist_pane.tree
        self.tree.selectionModel().currentChanged.connect(self._on_scope_changed)
        self.checklist_banner = checklist_pane.banner
        self.checklist_banner.retry_requested.connect(self.media_retry_requested)

        self.media_pane = MediaPane(self.media)
        self.media_pane.thumbnail_size_changed.connect(
            lambda px: self.media.resize_tiles(_tile_for(px))
        )
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
        self.splitter.setSizes([460, 360, 620])

        self.pages = QStackedWidget()
        self.pages.addWidget(self.startup)
        self.pages.addWidget(_padded(self.splitter))
        self.setCentralWidget(self.pages)
        self._build_status_bar()
        self._build_menus()
        self._restore_settings()

    def _build_status_bar(self) -> None:
        self.load_label = QLabel()
        self.load_label.setObjectName("loadLabel")
        self.database_label = QLabel()
        self.database_label.setObjectName("databaseLabel")
        self.statusBar().addPermanentWidget(self.load_label)
        self.statusBar().addPermanentWidget(self.database_label)

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

        file_menu = self.menuBar().addMenu(self.tr("&File"))
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
        self.export_report_action = action(
            "Export &Report...", "Ctrl+Shift+E", self.export_report_requested
        )
        file_menu.addAction(self.export_report_action)
        self.file_menu = file_menu
        file_menu.addSeparator()
        file_menu.addAction(action("&Quit", QKeySequence.StandardKey.Quit, self.close))

        view_menu = self.menuBar().addMenu(self.tr("&View"))
        self.refresh_action = action("&Refresh", "F5", self.refresh_requested)
        view_menu.addAction(self.refresh_action)
        view_menu.addAction(action("&Find", QKeySequence.StandardKey.Find, self.focus_search))
        view_menu.addSeparator()
        self.larger_action = action(
            "&Larger Thumbnails", QKeySequence.StandardKey.ZoomIn, self._larger_thumbnails
        )
        self.smaller_action = action(
            "&Smaller Thumbnails", QKeySequence.StandardKey.ZoomOut, self._smaller_thumbnails
        )
        view_menu.addAction(self.larger_action)
        view_menu.addAction(self.smaller_action)
        view_menu.addSeparator()
        self.performance_action = action(
            "&Performance Panel", "F12", self.performance_panel_requested
        )
        view_menu.addAction(self.performance_action)
        self.view_menu = view_menu

        self.help_menu = help_menu = self.menuBar().addMenu(self.tr("&Help"))
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

    def _larger_thumbnails(self) -> None:
        self.media_pane.step_thumbnail_size(1)

    def _smaller_thumbnails(self) -> None:
        self.media_pane.step_thumbnail_size(-1)

    def focus_search(self) -> None:
        self.list_pane.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.list_pane.search.selectAll()

    def _about(self) -> None:
        import sys
        from importlib.metadata import version

        from PySide6 import __version__ as pyside_version

        QMessageBox.about(
            self,
            "About Inspection Viewer",
            f"<h3>Inspection Viewer {__version__}</h3>"
            "<p>Building inspections, their checklists and photos, loaded in one batch query.</p>"
            f"<p>Python {sys.version.split()[0]}<br>PySide6 {pyside_version}"
            f"<br>SQLAlchemy {version('SQLAlchemy')}<br>Database: {self.database_label.text()}</p>",
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
            self.inspection_title.setText(self.tr("No inspection selected"))
            self.inspection_facts.setText("")
            self.checklist.clear()
            self.media.set_media([])
            self.media_pane.title.setText(self.tr("Photos"))
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
        self.media_pane.title.setText(count(rec.media_count, "photo"))
        self.media_pane.status.setText(self.tr("Loading..."))
        self.media_pane.show_message("Loading photos...")

    def show_checklist(self, entries: Sequence[ChecklistEntry]) -> None:
        """The tree of a newly loaded inspection, on "All media" (within three turns of the
        loop). The presenter chose that scope itself: it is not reported as the user's."""
        self.checklist_pane.show_checklist(entries)

    def show_media(self, items: Sequence[MediaItem], title: str, empty_text: str) -> None:
        self.media_pane.banner.setVisible(False)
        self.media.set_media(items)
        self.media_pane.title.setText(title)
        if items:
            self.media_pane.show_grid()
        else:
            self.media_pane.show_message(empty_text)

    def append_media(self, items: Sequence[MediaItem], title: str) -> None:
        self.media.append_media(items)
        self.media_pane.title.setText(title)

    def set_media_status(self, text: str) -> None:
        self.media_pane.status.setText(text)

    def show_load_error(self, message: str) -> None:
        self.media_pane.status.setText("")
        self.media_pane.banner.show_error(message)
        self.media_pane.show_message("The photos could not be loaded")

    def current_scope(self) -> Scope:
        index = self.tree.currentIndex()
        scope = self.checklist.data(index, ScopeRole) if index.isValid() else None
        return scope if isinstance(scope, Scope) else ALL_MEDIA

    # --- user actions -----------------------------------------------------------------------

    def _on_inspection_selection(
        self, selected: QItemSelection, deselected: QItemSelection
    ) -> None:
        rec = self.selected_inspection()
        self.show_inspection(rec)
        self.inspection_selected.emit(rec)

    def _on_scope_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        scope = self.checklist.data(current, ScopeRole) if current.isValid() else None
        if scope is not None and not self.checklist_pane.choosing_scope:
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
        columns = self.settings.value("window/inspection_columns")
        if isinstance(columns, QByteArray):
            self.table.horizontalHeader().restoreState(columns)
        px = self.settings.value("grid/thumbnail_px")
        # A settings file is user input: anything but a number in range is ignored.
        if isinstance(px, str | int) and str(px).isdigit():
            self.media_pane.set_thumbnail_px(int(px))

    def save_settings(self) -> None:
        if self.settings is None:
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue(
            "window/inspection_columns", self.table.horizontalHeader().saveState()
        )
        self.settings.setValue("grid/thumbnail_px", self.media_pane.thumbnail_px)
        if self.performance_panel is not None:
            self.settings.setValue("window/state", self.saveState())
        rec = self.selected_inspection()
        if rec is not None:
            self.settings.setValue("selection/inspection", rec.reference_code)
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        super().closeEvent(event)


def _padded(widget: QWidget) -> QWidget:
    page = QWidget()
    layout = QHBoxLayout(page)
    layout.setContentsMargins(6, 6, 6, 6)
    layout.addWidget(widget)
    return page


def _tile_for(px: int) -> QImage:
    return loading_tile(px, px * 3 // 4)
