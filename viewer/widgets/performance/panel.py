"""The performance panel: a dock that renders db.diagnostics figures, live and throttled."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from db.diagnostics.analysis import short_sql
from db.diagnostics.collect import Collector
from db.diagnostics.figures import (
    Figures,
    NPlusOne,
    PanelSettings,
    ServerProvider,
    ServerReport,
    ThumbnailFigures,
)
from db.diagnostics.health import health_tooltip
from db.diagnostics.snapshot import snapshot
from db.metrics import QueryMetrics
from viewer.models.performance_tables import FigureTableModel, fmt_clock, fmt_ms
from viewer.thumbnails.service import ThumbnailService, ThumbnailStats
from viewer.widgets.performance.bindings import Bindings, Shown
from viewer.widgets.performance.header import ActionHeader
from viewer.widgets.performance.overview import OverviewTab
from viewer.widgets.performance.server_tab import ServerTab
from viewer.widgets.performance.slow import SlowTab
from viewer.widgets.performance.statements import StatementsTab

log = logging.getLogger(__name__)

# At most four renders a second however busy the app is; none at all while nothing changes.
REFRESH_INTERVAL_MS = 250
N_PLUS_ONE_STYLE = (
    "#nPlusOneBanner { background: #fff4d6; border: 1px solid #f0c36d;"
    " border-radius: 4px; padding: 5px 8px; color: #6b4b00; }"
)


def thumbnail_figures(stats: ThumbnailStats) -> ThumbnailFigures:
    cache = stats.cache
    return ThumbnailFigures.make(
        entries=cache.entries,
        bytes=cache.bytes,
        cap_bytes=cache.cap_bytes,
        hits=cache.hits,
        misses=cache.misses,
        evictions=cache.evictions,
        requests=stats.requests,
        memory_hits=stats.memory_hits,
        disk_hits=stats.disk_hits,
        decodes=stats.decodes,
        errors=dict(stats.errors),
        queued=stats.queued,
        in_flight=stats.in_flight,
    )


def _n_plus_one_text(warnings: Sequence[NPlusOne]) -> str:
    if not warnings:
        return ""
    worst = max(warnings, key=lambda w: w.count)
    more = f" (and {len(warnings) - 1} more)" if len(warnings) > 1 else ""
    return (
        f"N+1 queries: {worst.action} ran {worst.count} similar statements "
        f"({fmt_ms(worst.total_ms)}){more}: {short_sql(worst.sql)}"
    )


class PerformancePanel(QDockWidget):
    """Why is this slow? The last action's statements, latencies, cache, resilience, health,
    and on demand the server's side. It renders Figures and never runs SQL itself: the server
    part comes from an injected async provider.

    Updates are coalesced: a change marks the panel dirty and, if it is shown, starts a
    single-shot timer; a render happens at most every REFRESH_INTERVAL_MS, and nothing runs
    while nothing changes or the dock is hidden.
    """

    refreshed = Signal()  # after a render (tests wait on it)
    server_refreshed = Signal()  # after a server report arrived and was rendered
    _changed = Signal()  # from metrics watchers, which may run on any thread

    def __init__(
        self,
        metrics: QueryMetrics,
        thumbnails: ThumbnailService | None = None,
        server: ServerProvider | None = None,
        *,
        reference_of: Callable[[int], str | None] | None = None,
        settings: PanelSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Performance", parent)
        self.setObjectName("performancePanel")
        self.metrics = metrics
        self.thumbnails = thumbnails
        self.reference_of = reference_of
        self.collector = Collector(metrics, settings)
        self._provider = server
        self._server_report: ServerReport | None = None
        self._server_task: asyncio.Task[None] | None = None
        self._thumbnail_baseline: ThumbnailFigures | None = None
        self.figures: Figures | None = None
        self.renders = 0
        self._dirty = True
        self._bindings = Bindings()

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh)
        self._since_render = QElapsedTimer()
        self._changed.connect(self.notify_changed)
        self.visibilityChanged.connect(self._on_visibility)
        self._unwatch = metrics.watch(self._on_metrics_changed)
        if thumbnails is not None:
            # Decode and disk timings reach us through the metrics; cache state changes with
            # every delivered or failed thumbnail.
            thumbnails.delivered.connect(self.notify_changed)
        self.setWidget(self._build_body())
        self.setMinimumWidth(460)

    # --- building -----------------------------------------------------------------------------

    def _build_body(self) -> QWidget:
        body = QWidget()
        body.setObjectName("performanceBody")
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.setSpacing(6)
        self.header = ActionHeader(self._bindings)
        layout.addWidget(self.header)
        self.n_plus_one_banner = QLabel()
        self.n_plus_one_banner.setObjectName("nPlusOneBanner")
        self.n_plus_one_banner.setWordWrap(True)
        self.n_plus_one_banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.n_plus_one_banner.setStyleSheet(N_PLUS_ONE_STYLE)
        self.n_plus_one_banner.setVisible(False)
        layout.addWidget(self.n_plus_one_banner)

        self.overview = OverviewTab(self._bindings)
        self.statements_tab = StatementsTab(self._bindings)
        self.slow_tab = SlowTab(self._bindings, self.metrics.slow_threshold_s * 1000)
        self.slow_tab.slow_threshold.valueChanged.connect(self._set_slow_threshold)
        self.server_tab = ServerTab(self._bindings)
        self.server_tab.server_button.clicked.connect(self.refresh_server)
        self.server_tabs = self.server_tab.server_tabs
        self.tabs = QTabWidget()
        self.tabs.setObjectName("performanceTabs")
        self.tabs.addTab(self.overview, "Overview")
        self.tabs.addTab(self.statements_tab, "Statements")
        self.tabs.addTab(self.slow_tab, "Slow")
        self.tabs.addTab(self.server_tab, "Server")
        layout.addWidget(self.tabs, 1)
        layout.addLayout(self._build_footer())
        return body

    def _build_footer(self) -> QHBoxLayout:
        footer = QHBoxLayout()
        self.copy_button = QPushButton(self.tr("Copy JSON"))
        self.copy_button.setObjectName("copyJson")
        self.copy_button.clicked.connect(self.copy_json)
        self.save_button = QPushButton(self.tr("Save JSON…"))
        self.save_button.setObjectName("saveJson")
        self.save_button.clicked.connect(self._ask_save_json)
        self.reset_button = QPushButton(self.tr("Reset counters"))
        self.reset_button.setObjectName("resetCounters")
        self.reset_button.clicked.connect(self.reset_counters)
        for button in (self.copy_button, self.save_button, self.reset_button):
            footer.addWidget(button)
        self.export_status = QLabel()
        self.export_status.setObjectName("exportStatus")
        self.export_status.setStyleSheet("color: #1e6e34;")
        footer.addWidget(self.export_status)
        footer.addStretch(1)
        self.updated = QLabel()
        self.updated.setObjectName("updatedAt")
        self.updated.setStyleSheet("color: #707070;")
        self._bindings.show(self.updated, lambda at: f"updated {fmt_clock(at)}", "taken_at")
        footer.addWidget(self.updated)
        return footer

    # --- live updates -------------------------------------------------------------------------

    @Slot()
    def notify_changed(self) -> None:
        """Something the panel shows may have changed: render soon, if shown."""
        self._dirty = True
        if self.isVisible() and not self._timer.isActive():
            waited = self._since_render.elapsed() if self._since_render.isValid() else 10**9
            self._timer.start(max(0, REFRESH_INTERVAL_MS - waited))

    def _on_metrics_changed(self) -> None:
        # Runs inside QueryMetrics on whatever thread recorded; the signal hops to ours.
        try:
            self._changed.emit()
        except RuntimeError:  # deleted without shutdown(): a load must not fail because of us
            self._unwatch()

    def _on_visibility(self, visible: bool) -> None:
        if visible and self._dirty:
            self.notify_changed()
        elif not visible:
            self._timer.stop()  # a hidden panel does no work; showing it again renders

    @Slot()
    def refresh(self) -> None:
        """Collect and render now (the timer calls this; tests may too)."""
        self._dirty = False
        self._since_render.start()
        stats = self.thumbnails.stats() if self.thumbnails is not None else None
        thumbs = None if stats is None else thumbnail_figures(stats).since(self._thumbnail_baseline)
        figures = self.collector.collect(
            thumbnails=thumbs, server=self._server_report, reference_of=self.reference_of
        )
        self.show_figures(figures)

    def show_figures(self, figures: Figures) -> None:
        self.figures = figures
        self.renders += 1
        self._bindings.render(figures)
        health = self.header.health
        health.set_band(figures.health.band)
        health.setToolTip(health_tooltip(figures.health))
        health.score.setToolTip(health.toolTip())
        banner = _n_plus_one_text(figures.n_plus_one)
        self.n_plus_one_banner.setText(banner)
        self.n_plus_one_banner.setVisible(bool(banner))
        self.overview.show_figures(figures)
        self.statements_tab.show_figures(figures)
        self.tabs.setTabText(1, f"Statements ({len(figures.statements):,})")
        slow = len(figures.slow.rows)
        self.tabs.setTabText(2, f"Slow ({slow:,})" if slow else "Slow")
        self.tabs.tabBar().setTabTextColor(
            2, QColor("#b3261e") if slow else self.palette().color(QPalette.ColorRole.WindowText)
        )
        self.refreshed.emit()

    # --- the server's side --------------------------------------------------------------------

    def refresh_server(self) -> None:
        """Ask the provider once; a second click while it runs does nothing."""
        if self._server_task is not None and not self._server_task.done():
            return
        if self._provider is None:
            self._show_server(ServerReport.unavailable("No database server for this window."))
            return
        self.server_tab.server_button.setEnabled(False)
        self.server_tab.server_status.setText(self.tr("Asking the database server…"))
        self._server_task = asyncio.ensure_future(self._fetch_server(self._provider))

    async def _fetch_server(self, provider: ServerProvider) -> None:
        try:
            report = await provider()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in a provider: log it, say so, keep the panel
            log.exception("the server-side report failed")
            report = ServerReport.unavailable(f"Unexpected error: {exc!r}. Details are in the log.")
        finally:
            self.server_tab.server_button.setEnabled(True)
        self._show_server(report)

    def _show_server(self, report: ServerReport) -> None:
        self._server_report = report
        self.refresh()  # at once: the user asked for it
        self.server_refreshed.emit()

    # --- export -------------------------------------------------------------------------------

    def current_figures(self) -> Figures:
        """The figures as shown; rendered now if something changed since."""
        if self.figures is None or self._dirty:
            self.refresh()
        assert self.figures is not None
        return self.figures

    def export_json(self) -> str:
        return json.dumps(snapshot(self.current_figures()), indent=2, ensure_ascii=False)

    def copy_json(self) -> None:
        QApplication.clipboard().setText(self.export_json())
        self.export_status.setText(self.tr("Copied"))

    def save_json(self, path: Path) -> None:
        path.write_text(self.export_json() + "\n", encoding="utf-8")

    def _ask_save_json(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save Performance Figures", "inspection-viewer-performance.json", "JSON (*.json)"
        )
        if name:
            try:
                self.save_json(Path(name))
            except OSError as exc:
                self.export_status.setText(f"Not saved: {exc.strerror or exc}")
            else:
                self.export_status.setText(f"Saved {Path(name).name}")

    def reset_counters(self) -> None:
        """Zero the query counters, windows and slow list, and count thumbnails from now."""
        if self.thumbnails is not None:
            self._thumbnail_baseline = thumbnail_figures(self.thumbnails.stats())
        self.metrics.reset()  # its watchers mark the panel dirty

    def _set_slow_threshold(self, value_ms: float) -> None:
        self.metrics.slow_threshold_s = value_ms / 1000
        self.notify_changed()

    # --- for tests and shutdown ---------------------------------------------------------------

    def shown(self) -> list[Shown]:
        return list(self._bindings.shown)

    def tables(self) -> dict[str, FigureTableModel[Any]]:
        return dict(self._bindings.tables)

    def shutdown(self) -> None:
        """Stop listening and cancel a server request still running."""
        self._unwatch()
        if shiboken6.isValid(self._timer):  # gone already if the window was deleted first
            self._timer.stop()
        if self._server_task is not None and not self._server_task.done():
            self._server_task.cancel()
