"""The inspection table model and the window's list behave as Qt views and users expect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt

from db.records import InspectionSort, InspectionSummary
from viewer.models.inspection_table import Column, InspectionTableModel, RecordRole
from viewer.widgets.main_window import MainWindow


def _records(n: int) -> list[InspectionSummary]:
    base = datetime(2026, 11, 1, 9, tzinfo=UTC)
    return [
        InspectionSummary(
            id=i,
            reference_code=f"INS-2026-{i:04d}",
            site_name=f"Site {i}",
            address=f"{i} Main Street",
            inspector_name="Dana Ortiz",
            status=("draft", "in_progress", "completed", "archived")[i % 4],
            scheduled_at=base - timedelta(days=i),
            completed_at=base if i % 4 >= 2 else None,
            media_count=i * 7,
        )
        for i in range(1, n + 1)
    ]


def test_model_passes_qt_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = InspectionTableModel()
    model.set_rows(_records(25))
    qtmodeltester.check(model)


def test_model_shows_what_the_list_promises() -> None:
    model = InspectionTableModel()
    model.set_rows(_records(3))
    index = model.index(1, Column.STATUS)
    assert model.data(index) == "Completed"
    assert model.data(model.index(1, Column.REFERENCE)) == "INS-2026-0002"
    assert model.data(model.index(2, Column.MEDIA)) == "21"
    assert model.data(model.index(0, Column.DATE)) == "2026-10-31"
    assert model.data(index, RecordRole).id == 2
    assert model.headerData(Column.MEDIA, Qt.Orientation.Horizontal) == "Photos"


def test_selecting_a_row_shows_its_details(qtbot) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow()
    qtbot.addWidget(window)
    window.show_inspections(_records(5), has_more=False)
    with qtbot.waitSignal(window.inspection_selected) as blocker:
        window.select_inspection_row(2)
    assert blocker.args[0].reference_code == "INS-2026-0003"
    assert window.inspection_title.text() == "INS-2026-0003 · Site 3"
    assert window.media_pane.message.text() == "Loading photos..."


def test_sorting_a_column_asks_the_server_and_fetching_more_asks_for_a_page(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = InspectionTableModel()
    model.set_rows(_records(3), has_more=True)
    with qtbot.waitSignal(model.sort_requested) as sort:
        model.sort(Column.REFERENCE, Qt.SortOrder.DescendingOrder)
    assert sort.args == [InspectionSort.REFERENCE_DESC]
    assert model.canFetchMore()
    with qtbot.waitSignal(model.more_requested):
        model.fetchMore()
    assert not model.canFetchMore(), "one page request at a time"
    model.append_rows(_records(5)[3:], has_more=False)
    assert model.rowCount() == 5
    assert not model.canFetchMore()


def test_startup_error_offers_retry(qtbot) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.show_startup_error("cannot connect to postgresql://u:***@h/db")
    assert window.startup.retry.isVisible()
    with qtbot.waitSignal(window.retry_requested):
        qtbot.mouseClick(window.startup.retry, Qt.MouseButton.LeftButton)
