"""The performance panel in the running app: real database, real widgets offscreen."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QElapsedTimer, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from db.config import AppPaths, libpq_url
from db.demo import (
    BAD_MEDIA_INSPECTION_REFERENCE,
    LARGE_INSPECTION_REFERENCE,
    DemoSpec,
    generate_demo,
)
from db.diagnostics import DIAGNOSTICS_KIND, load
from db.engine import Database, make_engine
from db.migrate import upgrade
from db.performance import EXPECTED_INDEXES
from db.storage import LocalStore
from viewer.app import tune_interpreter
from viewer.models.performance_tables import fmt_bytes, fmt_int, fmt_rate
from viewer.presenters.main import MainPresenter
from viewer.presenters.session import LiveDatabase
from viewer.thumbnails.cache import MIB, ThumbnailCache
from viewer.thumbnails.disk_cache import DiskThumbnailCache
from viewer.thumbnails.service import ThumbnailService
from viewer.widgets.main_window import MainWindow
from viewer.widgets.performance import PerformancePanel
from viewer.widgets.performance.bindings import resolve
from viewer.widgets.performance.panel import REFRESH_INTERVAL_MS

WAIT_MS = 30_000


@dataclass
class RunningApp:
    window: MainWindow
    controller: MainPresenter
    engine: Engine

    @property
    def panel(self) -> PerformancePanel:
        return self.controller.performance

    def inspection_id(self, reference: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT id FROM inspections WHERE reference_code = :r"), {"r": reference}
                ).scalar_one()
            )

    def select_row(self, qtbot: Any, row: int) -> int:
        rec = self.window.inspections.record(row)
        assert rec is not None
        self.window.select_inspection_row(row)
        qtbot.waitUntil(
            lambda: (
                self.controller.selection.selection is not None
                and self.controller.selection.selection.inspection_id == rec.id
            ),
            timeout=WAIT_MS,
        )
        return rec.id

    def rows_with_photos(self, n: int) -> list[int]:
        """The first `n` rows of the list whose inspections have photos (the newest have none)."""
        model = self.window.inspections
        rows = [r for r in range(model.rowCount()) if model.record(r).media_count > 0]
        assert len(rows) >= n
        return rows[:n]

    def thumbnails_settled(self, qtbot: Any) -> None:
        """Until the grid's visible thumbnails are in and the workers have nothing left."""
        window, service = self.window, self.controller.thumbnails

        def settled() -> bool:
            rows = window.media_pane.visible_rows()
            shown = rows is None or all(
                window.media.has_image(r) for r in range(rows[0], rows[1] + 1)
            )
            return shown and service.is_idle()

        qtbot.waitUntil(settled, timeout=WAIT_MS)

    def select(self, qtbot: Any, inspection_id: int) -> None:
        self.select_row(qtbot, self.window.inspections.row_of(inspection_id))

    def settled(self, qtbot: Any) -> None:
        """Until the panel shows what the metrics hold now (one throttled render later)."""
        renders = self.panel.renders
        self.panel.notify_changed()
        qtbot.waitUntil(lambda: self.panel.renders > renders, timeout=WAIT_MS)


AppFactory = Callable[[Engine, Path], RunningApp]


@pytest.fixture
def make_app(qtbot, qasync_loop, tmp_path: Path) -> Iterator[AppFactory]:  # type: ignore[no-untyped-def]
    """The app on a database, as test_main_window builds it, with the panel open."""
    started: list[RunningApp] = []

    def make(engine: Engine, media_dir: Path) -> RunningApp:
        tune_interpreter()
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        # Start on an inspection other than the large one (a first start would open the newest
        # inspection with photos, which is the large one), so that selecting it is a real load.
        settings.setValue("selection/inspection", BAD_MEDIA_INSPECTION_REFERENCE)
        window = MainWindow(settings)
        window.resize(1600, 900)
        qtbot.addWidget(window)
        paths = AppPaths(data_dir=tmp_path / "data", media_url=(media_dir).as_uri())
        thumbnails = ThumbnailService(
            ThumbnailCache(64 * MIB), DiskThumbnailCache(tmp_path / "thumbs"), workers=2
        )
        controller = MainPresenter(
            window, paths, LiveDatabase(Database(paths, libpq_url(engine.url)), paths), thumbnails
        )
        window.show()
        window.performance_action.trigger()  # F12
        with qtbot.waitSignal(controller.first_view_ready, timeout=60_000):
            controller.start()
        app = RunningApp(window, controller, engine)
        started.append(app)
        return app

    yield make
    for app in started:
        done = asyncio.ensure_future(app.controller.shutdown())
        qtbot.waitUntil(done.done, timeout=WAIT_MS)


@pytest.fixture
def app(make_app: AppFactory, demo_db) -> RunningApp:  # type: ignore[no-untyped-def]
    return make_app(demo_db.engine, demo_db.media_dir)


@pytest.fixture(scope="module")
def fallback_db(
    create_database: Callable[[str], URL], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, Path]]:
    """A private small demo without the stream function the window loads through (never the
    shared demo_db)."""
    engine = make_engine(create_database("panel_fallback"))
    upgrade(engine)
    media_dir = tmp_path_factory.mktemp("panel-media")
    spec = DemoSpec(inspections=3, full_size_photos=1, small_photos=1)
    generate_demo(engine, LocalStore(media_dir), spec)
    with engine.begin() as conn:
        conn.execute(text("DROP FUNCTION get_inspection_media_stream(bigint)"))
    yield engine, media_dir
    engine.dispose()


def test_after_loading_an_inspection_the_panel_shows_one_statement_and_batch(app, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = app.panel
    assert panel.isVisible()
    assert app.window.performance_action.isChecked()
    large = app.inspection_id(LARGE_INSPECTION_REFERENCE)
    app.select(qtbot, large)
    qtbot.waitUntil(
        lambda: (
            panel.header.last_name.text() == f"load_media inspection={LARGE_INSPECTION_REFERENCE}"
        ),
        timeout=WAIT_MS,
    )
    assert panel.header.last_statements.text() == "1"
    assert panel.header.last_strategy.text() == "batch"
    media = app.controller.selection.selection.media.media
    assert panel.header.last_rows.text() == fmt_int(media.count)
    assert not panel.n_plus_one_banner.isVisible()
    ours = [
        row
        for row in panel.statements_tab.statement_model.rows()
        if row.action == f"load_media inspection={LARGE_INSPECTION_REFERENCE}"
    ]
    assert len(ours) == 1
    assert "get_inspection_media_stream(CAST(? AS bigint))" in ours[0].sql
    assert (ours[0].similar, ours[0].duplicates) == (1, 1)
    latency = {row.kind: row for row in panel.overview.latency_model.rows()}
    assert latency["load_media"].count >= 2  # the first inspection on start, and this one


def test_fallback_shows_its_statement_count_the_counter_and_the_n_plus_one_warning(  # type: ignore[no-untyped-def]
    make_app, fallback_db, qtbot
) -> None:
    engine, media_dir = fallback_db
    running = make_app(engine, media_dir)
    panel = running.panel
    running.settled(qtbot)
    first = running.controller.selection.selection
    assert first is not None and first.media.strategy == "fallback"
    qtbot.waitUntil(lambda: panel.header.last_strategy.text() == "fallback", timeout=WAIT_MS)
    assert panel.header.last_statements.text() == fmt_int(first.media.statements)
    assert first.media.statements > len(first.checklist) >= 5
    assert panel.overview.resilience_labels["fallbacks"].text() == "1"
    assert panel.n_plus_one_banner.isVisible()
    banner = panel.n_plus_one_banner.text()
    assert "media.checklist_item_id = ?" in banner
    assert f"ran {len(first.checklist)} similar statements" in banner

    # Another inspection: one more fallback, named by its reference code.
    row = next(
        r
        for r in range(running.window.inspections.rowCount())
        if running.window.inspections.record(r).id != first.inspection_id
    )
    second_id = running.select_row(qtbot, row)
    second = running.controller.selection.selection
    reference = running.window.inspections.record(row).reference_code
    qtbot.waitUntil(
        lambda: panel.overview.resilience_labels["fallbacks"].text() == "2", timeout=WAIT_MS
    )
    qtbot.waitUntil(
        lambda: panel.header.last_name.text() == f"load_media inspection={reference}",
        timeout=WAIT_MS,
    )
    assert second.inspection_id == second_id
    assert panel.header.last_statements.text() == fmt_int(second.media.statements)
    # One per checklist item (plus the checklist itself when the concurrent checklist load had
    # not cached it yet); the refused batch statement is not tried again.
    assert second.media.statements - len(second.checklist) in (0, 1)
    warnings = {w.action: w for w in panel.figures.n_plus_one}
    assert warnings[f"load_media inspection={reference}"].count == len(second.checklist)
    per_item = [
        r
        for r in panel.statements_tab.statement_model.rows()
        if r.action_id == warnings[f"load_media inspection={reference}"].action_id
    ]
    assert len(per_item) == second.media.statements
    repeated = [r for r in per_item if r.similar == len(second.checklist)]
    assert len(repeated) == len(second.checklist)
    assert all("WHERE media.checklist_item_id = ?" in r.sql for r in repeated)
    assert {r.duplicates for r in repeated} == {1}, "each item has its own parameters"
    assert panel.header.health.band.text() != "good"


def test_server_side_says_so_when_pg_stat_statements_is_missing(  # type: ignore[no-untyped-def]
    make_app, fallback_db, qtbot
) -> None:
    engine, media_dir = fallback_db
    with engine.begin() as conn:
        conn.execute(text("DROP EXTENSION IF EXISTS pg_stat_statements"))
    running = make_app(engine, media_dir)
    panel = running.panel
    panel.tabs.setCurrentIndex(3)
    with qtbot.waitSignal(panel.server_refreshed, timeout=WAIT_MS):
        qtbot.mouseClick(panel.server_tab.server_button, Qt.MouseButton.LeftButton)
    message = panel.server_tab.server_messages["top"]
    assert "pg_stat_statements is not installed" in message.text()
    assert panel.server_tab.top_model.rowCount() == 0
    # The other parts do not depend on it.
    assert panel.server_tab.index_model.rowCount() > 0
    assert panel.figures.server.explain is not None


def test_cache_figures_equal_the_thumbnail_service_statistics(app, qtbot) -> None:  # type: ignore[no-untyped-def]
    service = app.controller.thumbnails
    for row in [*app.rows_with_photos(2), app.rows_with_photos(1)[0]]:  # the last: memory hits
        app.select_row(qtbot, row)
        app.thumbnails_settled(qtbot)
    qtbot.waitUntil(service.is_idle, timeout=WAIT_MS)

    def counts() -> tuple[object, object]:
        stats, cache, shown = service.stats(), service.cache.stats(), app.panel.figures.thumbnails
        assert shown is not None
        return (
            (shown.requests, shown.memory_hits, shown.hits, shown.misses, shown.entries),
            (stats.requests, stats.memory_hits, cache.hits, cache.misses, cache.entries),
        )

    # The grid may still ask for its visible rows once more (memory hits, counted) after a
    # render: a render after the last of them shows the same figures.
    for _ in range(5):
        app.settled(qtbot)
        shown_counts, service_counts = counts()
        if shown_counts == service_counts:
            break
    stats = service.stats()
    cache = service.cache.stats()
    shown = app.panel.figures.thumbnails
    assert shown is not None
    assert (shown.entries, shown.bytes, shown.cap_bytes) == (
        cache.entries,
        cache.bytes,
        cache.cap_bytes,
    )
    assert (shown.hits, shown.misses, shown.evictions) == (
        cache.hits,
        cache.misses,
        cache.evictions,
    )
    assert shown.hit_rate == pytest.approx(cache.hit_rate)
    assert (shown.requests, shown.memory_hits, shown.disk_hits, shown.decodes) == (
        stats.requests,
        stats.memory_hits,
        stats.disk_hits,
        stats.decodes,
    )
    assert shown.errors == dict(stats.errors) and shown.errors_total == stats.errors_total
    labels = app.panel.overview.cache_labels
    assert labels["hit_rate"].text() == fmt_rate(cache.hit_rate)
    assert labels["evictions"].text() == fmt_int(cache.evictions)
    assert labels["disk_hits"].text() == fmt_int(stats.disk_hits)
    assert app.panel.overview.cache_bar.text().startswith(
        f"{fmt_bytes(cache.bytes)} of {fmt_bytes(cache.cap_bytes)}"
    )
    assert app.panel.overview.cache_bar.maximum() == cache.cap_bytes // 1024

    # Reset counts the thumbnails from now on; entries and bytes are state and stay. The review
    # state of each selection loads beside its media: those must be done, or one of them lands
    # after the reset and is counted there.
    qtbot.waitUntil(lambda: app.controller.review.tasks.idle, timeout=WAIT_MS)
    qtbot.mouseClick(app.panel.reset_button, Qt.MouseButton.LeftButton)
    app.settled(qtbot)
    after = app.panel.figures.thumbnails
    assert (after.hits, after.misses, after.decodes, after.entries) == (0, 0, 0, cache.entries)
    assert app.panel.overview.resilience_labels["actions"].text() == "0"
    assert app.panel.header.last_name.text() == "No database action yet"


def test_explain_names_an_index_and_server_queries_are_not_counted(app, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = app.panel
    large = app.inspection_id(LARGE_INSPECTION_REFERENCE)
    app.select(qtbot, large)
    app.settled(qtbot)
    counters = dict(app.controller.metrics.counters)
    recent = app.controller.metrics.recent()
    panel.tabs.setCurrentIndex(3)
    with qtbot.waitSignal(panel.server_refreshed, timeout=WAIT_MS):
        qtbot.mouseClick(panel.server_tab.server_button, Qt.MouseButton.LeftButton)
    report = panel.figures.server
    assert report is not None and report.available, report
    assert report.explain is not None, report.explain_error
    # Which of our indexes the planner picks depends on the statistics; that it names one does not.
    ours = {spec.name for spec in EXPECTED_INDEXES}
    used = report.explain.indexes
    assert used and set(used) <= ours, used
    assert f"Indexes used: {', '.join(used)}." in panel.server_tab.explain_indexes.text()
    assert LARGE_INSPECTION_REFERENCE in panel.server_tab.explain_indexes.text()
    plan = panel.server_tab.explain_text.toPlainText()
    for name in used:
        assert f" using {name} on " in plan or f"Bitmap Index Scan on {name} " in plan
    assert {r.index_name for r in panel.server_tab.index_model.rows()} >= {
        "ix_media_inspection_display"
    }
    # The batch function's own log (the window loads through the stream function, which
    # cannot log; its statements are in pg_stat_statements).
    (function,) = panel.server_tab.function_model.rows()
    assert function.function_name == "get_inspection_media_batch"
    assert report.top_error is None
    assert any("get_inspection_media_stream" in r.query for r in panel.server_tab.top_model.rows())
    assert report.statements >= 4
    # The panel's own queries are nobody's action.
    assert app.controller.metrics.counters == counters
    assert app.controller.metrics.recent() == recent
    assert all(a.kind != DIAGNOSTICS_KIND for a in panel.figures.actions)


def test_json_export_holds_every_figure_shown_and_loads_back(  # type: ignore[no-untyped-def]
    app, qtbot, qtmodeltester, tmp_path: Path
) -> None:
    panel = app.panel
    for row in app.rows_with_photos(3):
        app.select_row(qtbot, row)
    app.select(qtbot, app.inspection_id(LARGE_INSPECTION_REFERENCE))
    with qtbot.waitSignal(panel.server_refreshed, timeout=WAIT_MS):
        panel.refresh_server()
    qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
    exported = json.loads(QApplication.clipboard().text())
    figures = load(exported)
    assert figures == panel.figures
    assert figures.server is not None and figures.thumbnails is not None
    # Every text on the panel, made again from the export alone.
    shown = panel.shown()
    assert len(shown) >= 30
    for item in shown:
        values = [resolve(figures, path) for path in item.paths]
        assert item.fmt(*values) == item.text(), item.paths
        for path in item.paths:
            head = path.split(".")[0]
            assert head in exported, path
    for path, model in panel.tables().items():
        assert model.rows() == (resolve(figures, path) or ()), path
        qtmodeltester.check(model)
    assert {r.kind for r in panel.overview.latency_model.rows()} >= {
        "load_media",
        "load_checklist",
        "thumbnail_decode",
    }
    media, checklist, threshold = panel.overview.chart.series()
    assert media == figures.latency.recent_ms["load_media"] and len(media) >= 4
    assert checklist == figures.latency.recent_ms["load_checklist"]
    assert threshold == figures.latency.slow_threshold_ms == 500

    saved = tmp_path / "performance.json"
    panel.save_json(saved)
    assert load(json.loads(saved.read_text(encoding="utf-8"))) == panel.figures


def test_a_hidden_panel_does_no_work_and_a_shown_one_renders_at_most_four_times_a_second(  # type: ignore[no-untyped-def]
    app, qtbot
) -> None:
    panel = app.panel
    app.window.performance_action.trigger()  # F12 again: hidden
    assert panel.isHidden() and not app.window.performance_action.isChecked()
    renders = panel.renders
    for row in app.rows_with_photos(2):
        app.select_row(qtbot, row)
        app.thumbnails_settled(qtbot)
    assert panel.renders == renders
    assert not panel._timer.isActive()

    app.window.performance_action.trigger()
    qtbot.waitUntil(lambda: panel.renders == renders + 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not panel._timer.isActive())
    assert panel.header.last_name.text().startswith("load_media inspection=")

    # A change every 5 ms for a second: at most one render per interval.
    metrics = app.controller.metrics
    clock = QElapsedTimer()
    burst = QTimer()
    burst.setInterval(5)
    burst.timeout.connect(lambda: metrics.record_duration("thumbnail_decode", 0.001))
    start = panel.renders
    clock.start()
    burst.start()
    qtbot.waitUntil(lambda: clock.elapsed() >= 1000, timeout=5000)
    burst.stop()
    elapsed = clock.elapsed()
    qtbot.waitUntil(lambda: not panel._timer.isActive(), timeout=5000)
    renders_in_burst = panel.renders - start
    assert 2 <= renders_in_burst <= elapsed // REFRESH_INTERVAL_MS + 2
    # Nothing changes any more: no timer runs, nothing renders.
    idle = panel.renders
    waited = QElapsedTimer()
    waited.start()
    qtbot.waitUntil(lambda: waited.elapsed() >= 3 * REFRESH_INTERVAL_MS, timeout=5000)
    assert panel.renders == idle and not panel._timer.isActive()
