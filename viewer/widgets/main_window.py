"""The main window: the inspection list and the selected inspection's details."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from db.records import InspectionSummary
from viewer import __version__
from viewer.models.inspection_table import STATUS_LABELS, Column, InspectionTableModel


class StartupPage(QWidget):
    """What the window shows while the database starts, migrates or fills; and if that fails."""

    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel("Starting...")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(420)
        self.progress.setTextVisible(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.retry = QPushButton("Retry")
        self.retry.clicked.connect(self.retry_requested)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        for widget in (self.message, self.progress, self.error):
            layout.addWidget(widget, alignment=Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.retry, alignment=Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
        self.show_progress("Starting...", 0, 0)

    def show_progress(self, text: str, done: int, total: int) -> None:
        self.message.setText(text)
        self.progress.setVisible(True)
        self.progress.setRange(0, max(total, 0))  # 0..0 is Qt's busy indicator
        self.progress.setValue(done if total else 0)
        self.error.setVisible(False)
        self.retry.setVisible(False)

    def show_error(self, text: str) -> None:
        self.message.setText("Inspection Viewer could not open the database")
        self.progress.setVisible(False)
        self.error.setText(text)
        self.error.setVisible(True)
        self.retry.setVisible(True)


class InspectionDetails(QWidget):
    """Read-only facts of one inspection, and the state of its photos' load."""

    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("No inspection selected")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self._fields: dict[str, QLabel] = {}
        form = QFormLayout()
        for name in ("Site", "Address", "Inspector", "Status", "Scheduled", "Completed", "Photos"):
            label = QLabel("-")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            self._fields[name] = label
            form.addRow(f"{name}:", label)
        self.media_status = QLabel()
        self.media_status.setObjectName("mediaStatus")
        self.media_status.setWordWrap(True)
        self.error_banner = QWidget()
        self.error_banner.setObjectName("errorBanner")
        self.error_banner.setStyleSheet(
            "#errorBanner { background: #fdecea; border: 1px solid #f5c2c0; border-radius: 4px; }"
        )
        self.error_text = QLabel()
        self.error_text.setWordWrap(True)
        self.error_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry = QPushButton("Retry")
        self.retry.clicked.connect(self.retry_requested)
        banner = QHBoxLayout(self.error_banner)
        banner.addWidget(self.error_text, 1)
        banner.addWidget(self.retry)
        self.error_banner.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(self.error_banner)
        layout.addWidget(self.media_status)
        layout.addStretch(1)

    def show_media_loading(self) -> None:
        self.error_banner.setVisible(False)
        self.media_status.setText("Loading photos...")

    def show_media_loaded(self, count: int, statements: int, strategy: str, ms: float) -> None:
        self.error_banner.setVisible(False)
        how = (
            "from cache"
            if strategy == "cache"
            else (
                f"{statements} statement{'s' if statements != 1 else ''}, {strategy}, {ms:.0f} ms"
            )
        )
        self.media_status.setText(f"{count:,} photos loaded ({how})")

    def show_media_error(self, message: str) -> None:
        self.media_status.setText("")
        self.error_text.setText(message)
        self.error_banner.setVisible(True)

    def show_inspection(self, rec: InspectionSummary | None) -> None:
        self.error_banner.setVisible(False)
        self.media_status.setText("")
        if rec is None:
            self.title.setText("No inspection selected")
            for label in self._fields.values():
                label.setText("-")
            return
        self.title.setText(rec.reference_code)
        values = {
            "Site": rec.site_name,
            "Address": rec.address,
            "Inspector": rec.inspector_name,
            "Status": STATUS_LABELS.get(rec.status, rec.status),
            "Scheduled": rec.scheduled_at.strftime("%Y-%m-%d %H:%M"),
            "Completed": rec.completed_at.strftime("%Y-%m-%d %H:%M") if rec.completed_at else "-",
            "Photos": f"{rec.media_count:,}",
        }
        for name, value in values.items():
            self._fields[name].setText(value)


class MainWindow(QMainWindow):
    inspection_selected = Signal(object)  # InspectionSummary | None
    retry_requested = Signal()
    media_retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Inspection Viewer")
        self.inspections = InspectionTableModel(self)

        self.startup = StartupPage()
        self.startup.retry_requested.connect(self.retry_requested)

        self.table = QTableView()
        self.table.setObjectName("inspectionTable")
        self.table.setModel(self.inspections)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(Column.SITE, QHeaderView.ResizeMode.Stretch)
        for col, width in (
            (Column.REFERENCE, 120),
            (Column.INSPECTOR, 130),
            (Column.STATUS, 90),
            (Column.DATE, 90),
            (Column.MEDIA, 60),
        ):
            header.resizeSection(col, width)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)

        self.details = InspectionDetails()
        self.details.retry_requested.connect(self.media_retry_requested)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

        main = QWidget()
        layout = QHBoxLayout(main)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter)

        self.pages = QStackedWidget()
        self.pages.addWidget(self.startup)
        self.pages.addWidget(main)
        self.setCentralWidget(self.pages)

        self.database_label = QLabel()
        self.statusBar().addPermanentWidget(self.database_label)
        self._build_menus()

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Inspection Viewer", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _about(self) -> None:
        from PySide6 import __version__ as pyside_version
        from sqlalchemy import __version__ as sa_version

        QMessageBox.about(
            self,
            "About Inspection Viewer",
            f"<b>Inspection Viewer {__version__}</b><br>"
            f"PySide6 {pyside_version}, SQLAlchemy {sa_version}",
        )

    # --- what the controller tells the window -------------------------------------------

    def show_progress(self, text: str, done: int, total: int) -> None:
        self.pages.setCurrentWidget(self.startup)
        self.startup.show_progress(text, done, total)

    def show_startup_error(self, text: str) -> None:
        self.pages.setCurrentWidget(self.startup)
        self.startup.show_error(text)

    def set_database_label(self, text: str) -> None:
        self.database_label.setText(text)

    def show_inspections(self, rows: Any) -> None:
        self.inspections.set_rows(rows)
        self.pages.setCurrentIndex(1)
        self.statusBar().showMessage(f"{self.inspections.rowCount():,} inspections", 5000)

    def selected_inspection(self) -> InspectionSummary | None:
        rows = self.table.selectionModel().selectedRows()
        return self.inspections.record(rows[0].row()) if rows else None

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text)

    def select_inspection_row(self, row: int) -> None:
        if 0 <= row < self.inspections.rowCount():
            self.table.selectRow(row)

    def _on_selection(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        rec = self.inspections.record(rows[0].row()) if rows else None
        self.details.show_inspection(rec)
        self.inspection_selected.emit(rec)
