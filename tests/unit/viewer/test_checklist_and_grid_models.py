"""The checklist tree and the media grid models: valid Qt models showing what users read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from db.records import ChecklistEntry, MediaItem, Scope
from viewer.models.checklist_tree import ChecklistTreeModel, Column, EntryRole, ScopeRole
from viewer.models.media_grid import FailureRole, MediaGridModel, loading_tile
from viewer.widgets.panes.checklist import ChecklistPane

T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)


def _entries() -> list[ChecklistEntry]:
    rows = [
        ("Roof", "Gutters secured", "pass", 2),
        ("Roof", "Flashings sealed", "fail", 1),
        ("Electrical", "GFCI in wet areas", "pending", 0),
        ("Safety", "Smoke alarms", "na", 3),
    ]
    return [
        ChecklistEntry(
            i + 1,
            7,
            section,
            i + 1,
            title,
            result,
            "Loose at NE corner" if result == "fail" else None,
            photos,
        )
        for i, (section, title, result, photos) in enumerate(rows)
    ]


def _media(n: int) -> list[MediaItem]:
    return [
        MediaItem(
            i,
            1,
            f"demo/{i}.jpg",
            "image/jpeg",
            4032,
            3024,
            1000,
            "0" * 64,
            f"Photo {i}",
            T0 + timedelta(minutes=i),
            1,
        )
        for i in range(1, n + 1)
    ]


def test_checklist_tree_passes_qt_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = ChecklistTreeModel()
    model.set_checklist(_entries())
    qtmodeltester.check(model)
    model.clear()
    qtmodeltester.check(model)


def test_checklist_tree_groups_by_section_after_an_all_media_entry() -> None:
    model = ChecklistTreeModel()
    model.set_checklist(_entries())
    top = [model.data(model.index(r, Column.TITLE)) for r in range(model.rowCount())]
    assert top == ["All media", "Roof", "Electrical", "Safety"]
    assert model.data(model.index(0, Column.PHOTOS)) == "6"
    roof = model.index(1, 0)
    assert model.rowCount(roof) == 2
    assert model.data(model.index(1, Column.RESULT)) == "1 failed"
    flashing = model.index(1, Column.RESULT, roof)
    assert model.data(flashing) == "Fail"
    assert model.data(model.index(1, Column.NOTES, roof)) == "Loose at NE corner"
    assert model.data(model.index(1, 0, roof), EntryRole).title == "Flashings sealed"
    assert model.data(model.index(1, 0, roof), ScopeRole) == Scope.item(2)
    assert model.data(roof, ScopeRole) == Scope.section_of("Roof")
    assert model.index_of_item(4).parent().row() == 3


def test_checklist_tree_styles_sections_and_items_as_users_read_them(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = ChecklistTreeModel()
    model.set_checklist(_entries())
    roof = model.index(1, Column.TITLE)
    flashing = model.index(1, Column.RESULT, roof)
    font = model.data(roof, Qt.ItemDataRole.FontRole)
    assert font is not None and font.bold()  # sections and "All media" stand out
    assert model.data(model.index(0, Column.TITLE), Qt.ItemDataRole.FontRole).bold()
    assert model.data(model.index(1, Column.TITLE, roof), Qt.ItemDataRole.FontRole) is None
    assert model.data(flashing, Qt.ItemDataRole.ForegroundRole).name() == "#c62828"
    assert not model.data(flashing, Qt.ItemDataRole.DecorationRole).isNull()
    assert model.data(model.index(1, Column.TITLE, roof), Qt.ItemDataRole.DecorationRole) is None
    tooltip = model.data(model.index(1, Column.TITLE, roof), Qt.ItemDataRole.ToolTipRole)
    assert tooltip == "Roof · Flashings sealed\n\nLoose at NE corner"
    assert model.data(roof, Qt.ItemDataRole.ToolTipRole) is None
    alignment = model.data(model.index(0, Column.PHOTOS), Qt.ItemDataRole.TextAlignmentRole)
    assert alignment == int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    assert model.data(model.index(0, Column.TITLE), Qt.ItemDataRole.TextAlignmentRole) is None
    # Roles the model does not answer, and indexes of no node, are None.
    assert model.data(flashing, Qt.ItemDataRole.BackgroundRole) is None
    assert model.data(flashing, Qt.ItemDataRole.CheckStateRole) is None
    assert model.data(model.index(9, 0)) is None


def test_media_grid_passes_qt_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = MediaGridModel(loading_tile(32, 24))
    model.set_media(_media(12))
    qtmodeltester.check(model)


def test_media_grid_shows_placeholder_then_image_then_forgets_rows_out_of_view(qtbot) -> None:  # type: ignore[no-untyped-def]
    tile = loading_tile(32, 24)
    model = MediaGridModel(tile)
    model.set_media(_media(10))
    assert model.data(model.index(3), Qt.ItemDataRole.DecorationRole) is tile
    image = QImage(8, 6, QImage.Format.Format_RGB32)
    with qtbot.waitSignal(model.dataChanged):
        assert model.set_image(4, image)
    assert model.data(model.index(3), Qt.ItemDataRole.DecorationRole) == image
    assert model.set_failure(5, "missing", "file not found: demo/5.jpg", tile)
    assert model.data(model.index(4), FailureRole) == ("missing", "file not found: demo/5.jpg")
    assert "file not found" in model.data(model.index(4), Qt.ItemDataRole.ToolTipRole)
    model.keep_rows(6, 9)
    assert not model.has_image(3)
    assert not model.set_image(999, image), "a photo of another inspection is ignored"


def test_a_batch_of_thumbnails_is_one_signal_per_run_of_adjacent_rows(qtbot: object) -> None:
    model = MediaGridModel(loading_tile(16, 12))
    model.set_media(_media(10))  # media ids 1..10 in rows 0..9
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda first, last, *_: changed.append((first.row(), last.row())))
    image = QImage(16, 12, QImage.Format.Format_RGB32)
    tile = QImage(16, 12, QImage.Format.Format_RGB32)
    count = model.set_images(
        [(3, image), (7, image), (99, image), (4, image)], [(5, "damaged", "bad", tile)]
    )
    assert count == 4  # 99 is not in this set
    # Rows 2-4 in one range; row 6 alone, not the rows between (the view's work is per row).
    assert changed == [(2, 4), (6, 6)]
    assert model.has_image(2) and model.has_image(3) and model.has_image(4)
    assert model.has_image(6) and not model.has_image(5)
    assert model.data(model.index(4), FailureRole) == ("damaged", "bad")


def test_checklist_filter_hides_items_and_a_new_checklist_starts_with_all_shown(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = ChecklistTreeModel()
    pane = ChecklistPane(model)
    qtbot.addWidget(pane)
    model.set_checklist(_entries())

    def hidden() -> set[int]:
        return {
            model.item_ids_of(s)[row]
            for s in range(1, model.rowCount())
            for row in range(model.rowCount(model.index(s, 0)))
            if pane.tree.isRowHidden(row, model.index(s, 0))
        }

    assert pane.apply_filter("flagged", {2, 4}) == 2
    assert hidden() == {1, 3}
    assert pane.apply_filter("flagged", {1, 2, 4}) == 3
    assert hidden() == {3}
    # A new checklist (a model reset) shows every item; the filter then hides them again.
    model.set_checklist(_entries())
    assert hidden() == set()
    assert pane.apply_filter("flagged", {1, 2, 4}) == 3
    assert hidden() == {3}
    assert pane.apply_filter("all", set()) == 4
    assert hidden() == set()
