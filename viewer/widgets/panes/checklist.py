"""The checklist pane: the selected inspection's title and facts, and its checklist tree."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTreeView, QVBoxLayout, QWidget

from viewer.models.checklist_tree import ChecklistTreeModel
from viewer.models.checklist_tree import Column as ChecklistColumn
from viewer.widgets.panes.startup import ErrorBanner


class ChecklistPane(QWidget):
    def __init__(self, model: ChecklistTreeModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("No inspection selected")
        self.title.setObjectName("inspectionTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        # A long site name wraps instead of pushing the panes apart.
        self.title.setWordWrap(True)
        self.facts = QLabel()
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts.setStyleSheet("color: #404040;")
        self.tree = QTreeView()
        self.tree.setObjectName("checklistTree")
        self.tree.setModel(model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setAllColumnsShowFocus(True)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.resizeSection(ChecklistColumn.TITLE, 184)
        header.resizeSection(ChecklistColumn.RESULT, 78)
        header.resizeSection(ChecklistColumn.PHOTOS, 52)
        self.banner = ErrorBanner()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.facts)
        layout.addWidget(self.banner)
        layout.addWidget(self.tree, 1)
