"""The checklist pane: the inspection's title and facts, its checklist tree, review controls."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QTreeView, QVBoxLayout, QWidget

from db.records import ChecklistEntry
from db.review.records import ReviewEntry
from viewer.models.checklist_tree import ChecklistTreeModel
from viewer.models.checklist_tree import Column as ChecklistColumn
from viewer.widgets.panes.review import ReviewPane
from viewer.widgets.panes.startup import ErrorBanner


class ChecklistPane(QWidget):
    def __init__(self, model: ChecklistTreeModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(self.tr("No inspection selected"))
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
        self.tree.setAccessibleName(self.tr("Checklist"))
        self.tree.setModel(model)
        self.tree.setUniformRowHeights(True)
        self._model = model
        # True while show_checklist() makes "All media" current: that is not the user's choice.
        self.choosing_scope = False
        # The later turns of show_checklist(): open the sections, then paint.
        self._opening = False
        self._turn = QTimer(self)
        self._turn.setSingleShot(True)
        self._turn.setInterval(0)
        self._turn.timeout.connect(self._next_turn)
        # Item ids apply_filter hid; a reset of the model shows every row again.
        self._hidden: set[int] = set()
        model.modelReset.connect(self._forget_hidden)
        self.tree.setAlternatingRowColors(True)
        self.tree.setAllColumnsShowFocus(True)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.resizeSection(ChecklistColumn.TITLE, 184)
        header.resizeSection(ChecklistColumn.RESULT, 78)
        header.resizeSection(ChecklistColumn.REVIEW, 96)
        header.resizeSection(ChecklistColumn.PHOTOS, 52)
        self.banner = ErrorBanner()
        self.review = ReviewPane()
        self.review.install_keys(self.tree)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.facts)
        layout.addWidget(self.banner)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.review)

    def show_checklist(self, entries: Sequence[ChecklistEntry]) -> None:
        """A newly loaded checklist, every section open, on "All media", in three turns.

        For a 1,000-item checklist, filling the model, laying out its open sections and painting
        them take 5-15 ms each. In one turn of the loop they held the GUI thread for 10-34 ms;
        in three, for 7-15 ms (docs/PERFORMANCE.md, fifth session). The tree does not
        repaint until the last turn, so it never shows a half-open checklist. A timer object,
        not QTimer.singleShot(0, ...), which Qt posts as an event that runs before due timers
        and input.
        """
        self.tree.setUpdatesEnabled(False)
        self._model.set_checklist(entries)
        self._opening = True
        self._turn.start()

    def _next_turn(self) -> None:
        if self._opening:
            self._opening = False
            self.tree.expandAll()
            self.choosing_scope = True
            try:
                self.tree.setCurrentIndex(self._model.all_media_index())
            finally:
                self.choosing_scope = False
            self._turn.start()
        else:
            self.tree.setUpdatesEnabled(True)

    def apply_filter(self, kind: str, flagged_items: set[int]) -> int:
        """Hide the checklist items the review filter leaves out; returns how many show.

        Only rows whose state changes are told to the tree (a reset shows every row): with no
        filter on a 1,000-item checklist that is no call at all, where one per row took 10 ms.
        """
        model = self.tree.model()
        assert isinstance(model, ChecklistTreeModel)
        shown = 0
        hidden: set[int] = set()
        for section_row in range(1, model.rowCount()):
            section = model.index(section_row, 0)
            for row, item_id in enumerate(model.item_ids_of(section_row)):
                keep = _keeps(kind, model.review_of(item_id), item_id in flagged_items)
                if not keep:
                    hidden.add(item_id)
                if keep == (item_id in self._hidden):
                    self.tree.setRowHidden(row, section, not keep)
                shown += keep
        self._hidden = hidden
        return shown

    def _forget_hidden(self) -> None:
        self._hidden = set()


def _keeps(kind: str, review: ReviewEntry | None, flagged: bool) -> bool:
    if kind == "unreviewed":
        return review is None or review.value is None
    if kind == "needs_rework":
        return review is not None and review.value == "needs_rework"
    if kind == "flagged":
        return flagged
    if kind == "conflict":
        return review is not None and review.conflict
    return True
