"""A loaded checklist in the window: every section open, "All media" current, not reported,
and painted once it is open."""

from __future__ import annotations

from typing import Any

from db.records import ALL_MEDIA, ChecklistEntry
from viewer.models.checklist_tree import ScopeRole
from viewer.widgets.main_window import MainWindow


def _entries(items: int, per_section: int) -> list[ChecklistEntry]:
    return [
        ChecklistEntry(i + 1, 1, f"Section {i // per_section}", i, f"Item {i}", "pass", None, 2)
        for i in range(items)
    ]


def test_a_shown_checklist_has_its_sections_open_on_all_media_without_a_scope_signal(
    qtbot: Any,
) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1440, 860)
    window.show()
    window.show_main()
    tree, model = window.tree, window.checklist

    with qtbot.assertNotEmitted(window.scope_selected):
        window.show_checklist(_entries(60, 10))
        qtbot.waitUntil(lambda: tree.currentIndex().isValid())
    assert model.data(tree.currentIndex(), ScopeRole) == ALL_MEDIA
    sections = [model.index(row, 0) for row in range(1, model.rowCount())]
    assert len(sections) == 6
    assert all(tree.isExpanded(index) for index in sections)
    # It is painted in the end: the tree holds its paint only while it opens the sections.
    qtbot.waitUntil(tree.updatesEnabled)

    # The next inspection's checklist replaces it.
    window.show_checklist(_entries(8, 4))
    assert model.rowCount() == 3  # All media and two sections
    qtbot.waitUntil(lambda: tree.updatesEnabled() and tree.currentIndex().isValid())
    assert all(tree.isExpanded(model.index(row, 0)) for row in (1, 2))
    # A click on an item is the user's choice: it is reported.
    with qtbot.waitSignal(window.scope_selected):
        tree.setCurrentIndex(model.index(0, 0, model.index(1, 0)))
