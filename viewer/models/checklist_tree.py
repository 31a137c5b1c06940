"""The checklist of one inspection as a tree: "All media", then sections, then items."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

from db.records import ALL_MEDIA, ChecklistEntry, Scope
from db.review.records import LABELS, ReviewEntry

EntryRole = Qt.ItemDataRole.UserRole + 1  # ChecklistEntry for items, None otherwise
ScopeRole = Qt.ItemDataRole.UserRole + 2  # Scope; None for the invisible root
ReviewRole = Qt.ItemDataRole.UserRole + 3  # ReviewEntry of an item, None if not reviewed

RESULT_LABELS = {"pass": "Pass", "fail": "Fail", "na": "N/A", "pending": "Pending"}
RESULT_COLOURS = {
    "pass": QColor("#2e7d32"),
    "fail": QColor("#c62828"),
    "na": QColor("#9e9e9e"),
    "pending": QColor("#ef8f00"),
}


class Column(IntEnum):
    TITLE = 0
    RESULT = 1
    REVIEW = 2
    PHOTOS = 3
    NOTES = 4


HEADERS = {
    Column.TITLE: "Checklist",
    Column.RESULT: "Result",
    Column.REVIEW: "Review",
    Column.PHOTOS: "Photos",
    Column.NOTES: "Notes",
}

REVIEW_COLOURS = {
    "accepted": QColor("#2e7d32"),
    "needs_rework": QColor("#c62828"),
    "not_applicable": QColor("#757575"),
}
CONFLICT_COLOUR = QColor("#8e24aa")

_Index = QModelIndex | QPersistentModelIndex
_COLUMNS = len(Column)
_PHOTOS_ALIGNMENT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


@dataclass(eq=False)
class _Node:
    scope: Scope | None
    title: str
    entry: ChecklistEntry | None = None
    parent: _Node | None = None
    children: list[_Node] = field(default_factory=list)
    photos: int = 0
    failures: int = 0

    def row(self) -> int:
        siblings = self.parent.children if self.parent is not None else []
        return siblings.index(self) if self.parent is not None else 0


class ChecklistTreeModel(QAbstractItemModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = _Node(None, "")
        self._rows: dict[int, int] = {}  # id(node) -> row, so parent() is O(1)
        self._badges: dict[str, QIcon] = {}
        self._reviews: dict[int, ReviewEntry] = {}  # checklist item id -> its newest verdict
        self._bold = QFont()
        self._bold.setBold(True)
        # What data() answers, by role; every other role is None.
        self._answers: dict[int, Callable[[_Node, int], Any]] = {
            Qt.ItemDataRole.DisplayRole: self._display,
            Qt.ItemDataRole.DecorationRole: self._decoration,
            Qt.ItemDataRole.ForegroundRole: self._foreground,
            Qt.ItemDataRole.ToolTipRole: self._tooltip,
            Qt.ItemDataRole.FontRole: self._font,
            Qt.ItemDataRole.TextAlignmentRole: self._alignment,
            ReviewRole: self._review,
            EntryRole: self._entry,
            ScopeRole: self._scope,
        }

    def _badge(self, result: str) -> QIcon | None:
        """A small filled circle in the result's colour (made once, on the GUI thread)."""
        icon = self._badges.get(result)
        colour = RESULT_COLOURS.get(result)
        if icon is None and colour is not None:
            pixmap = QPixmap(12, 12)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setBrush(colour)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(1, 1, 10, 10)
            painter.end()
            icon = self._badges[result] = QIcon(pixmap)
        return icon

    def set_checklist(self, entries: Sequence[ChecklistEntry]) -> None:
        self.beginResetModel()
        root = _Node(None, "")
        everything = _Node(ALL_MEDIA, "All media", parent=root)
        root.children.append(everything)
        sections: dict[str, _Node] = {}
        for entry in sorted(entries, key=lambda e: e.position):
            section = sections.get(entry.section)
            if section is None:
                section = _Node(Scope.section_of(entry.section), entry.section, parent=root)
                sections[entry.section] = section
                root.children.append(section)
            section.children.append(
                _Node(
                    Scope.item(entry.id),
                    entry.title,
                    entry=entry,
                    parent=section,
                    photos=entry.media_count,
                )
            )
            section.photos += entry.media_count
            section.failures += entry.result == "fail"
        everything.photos = sum(s.photos for s in sections.values())
        everything.failures = sum(s.failures for s in sections.values())
        self._root = root
        self._rows = {}
        for i, node in enumerate(root.children):
            self._rows[id(node)] = i
            for j, child in enumerate(node.children):
                self._rows[id(child)] = j
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self._root = _Node(None, "")
        self._rows = {}
        self._reviews = {}
        self.endResetModel()

    def set_reviews(self, reviews: dict[int, ReviewEntry]) -> None:
        """The review badges: the newest verdict per checklist item (no reset: one column)."""
        self._reviews = dict(reviews)
        for section in self._root.children[1:]:
            if section.children:
                first = self.createIndex(0, Column.REVIEW, section.children[0])
                last = self.createIndex(
                    len(section.children) - 1, Column.REVIEW, section.children[-1]
                )
                self.dataChanged.emit(first, last)

    def review_of(self, checklist_item_id: int) -> ReviewEntry | None:
        return self._reviews.get(checklist_item_id)

    def item_ids(self) -> list[int]:
        """The checklist items in the order the tree shows them."""
        return [c.entry.id for s in self._root.children[1:] for c in s.children if c.entry]

    def item_ids_of(self, section_row: int) -> list[int]:
        """The checklist items of the section at `section_row` (0 is "All media")."""
        section = self._root.children[section_row]
        return [c.entry.id for c in section.children if c.entry is not None]

    def all_media_index(self) -> QModelIndex:
        return self.index(0, 0) if self._root.children else QModelIndex()

    def index_of_item(self, checklist_item_id: int) -> QModelIndex:
        for section in self._root.children[1:]:
            for child in section.children:
                if child.scope == Scope.item(checklist_item_id):
                    return self.createIndex(self._rows[id(child)], 0, child)
        return QModelIndex()

    # --- Qt model interface ---------------------------------------------------------------

    # The tree view calls these thousands of times when a large checklist is shown: they stay
    # in Python (no hasIndex() round trip through Qt back into rowCount/columnCount).

    def _node(self, index: _Index) -> _Node:
        node = index.internalPointer()  # None for an invalid index
        return node if isinstance(node, _Node) else self._root

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column < 0 or column >= _COLUMNS or row < 0:
            return QModelIndex()
        if parent.isValid() and parent.column() != 0:
            return QModelIndex()
        children = self._node(parent).children
        if row >= len(children):
            return QModelIndex()
        return self.createIndex(row, column, children[row])

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        node = self._node(index)
        parent = node.parent
        if parent is None or parent is self._root:
            return QModelIndex()
        return self.createIndex(self._rows[id(parent)], 0, parent)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return _COLUMNS

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS.get(Column(section)) if 0 <= section < len(Column) else None
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Role first: a view asks for about ten roles per cell and this model answers few, so
        # most calls end at the dictionary (a 1,000-item checklist's first paint and expandAll
        # made about 2,300 calls here; the enum and index checks per call were most of it).
        answer = self._answers.get(role)
        if answer is None:
            return None
        node = index.internalPointer()
        if not isinstance(node, _Node):
            return None
        return answer(node, index.column())

    def _display(self, node: _Node, column: int) -> str:
        entry = node.entry
        if column == Column.TITLE:
            return node.title
        if column == Column.RESULT:
            if entry is not None:
                return RESULT_LABELS.get(entry.result, entry.result)
            return f"{node.failures} failed" if node.failures else ""
        if column == Column.NOTES:
            return (entry.notes or "") if entry is not None else ""
        if column == Column.REVIEW:
            return self._review_text(entry)
        return f"{node.photos:,}" if node.photos else ""

    def _decoration(self, node: _Node, column: int) -> QIcon | None:
        entry = node.entry
        return self._badge(entry.result) if column == Column.RESULT and entry is not None else None

    def _foreground(self, node: _Node, column: int) -> QColor | None:
        entry = node.entry
        if entry is None:
            return None
        if column == Column.RESULT:
            return RESULT_COLOURS.get(entry.result)
        if column == Column.REVIEW:
            review = self._reviews.get(entry.id)
            if review is not None:
                return (
                    CONFLICT_COLOUR if review.conflict else REVIEW_COLOURS.get(review.value or "")
                )
        return None

    def _tooltip(self, node: _Node, _column: int) -> str | None:
        entry = node.entry
        if entry is None:
            return None
        notes = f"\n\n{entry.notes}" if entry.notes else ""
        return f"{entry.section} · {entry.title}{notes}"

    def _font(self, node: _Node, _column: int) -> QFont | None:
        return self._bold if node.entry is None else None

    @staticmethod
    def _alignment(_node: _Node, column: int) -> int | None:
        return _PHOTOS_ALIGNMENT if column == Column.PHOTOS else None

    def _review(self, node: _Node, _column: int) -> ReviewEntry | None:
        return self._reviews.get(node.entry.id) if node.entry is not None else None

    @staticmethod
    def _entry(node: _Node, _column: int) -> ChecklistEntry | None:
        return node.entry

    @staticmethod
    def _scope(node: _Node, _column: int) -> Scope | None:
        return node.scope

    def _review_text(self, entry: ChecklistEntry | None) -> str:
        review = self._reviews.get(entry.id) if entry is not None else None
        if review is None:
            return ""
        text = LABELS.get(review.value or "", "Comment") if review.value else "Comment"
        return f"⚠ Conflict: {text}" if review.conflict else text
