"""The performance panel: a dock that renders db.diagnostics figures, live and throttled."""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QElapsedTimer, QPointF, QRectF, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from db.diagnostics import (
    CHART_KINDS,
    Collector,
    Figures,
    NPlusOne,
    PanelSettings,
    ServerProvider,
    ServerReport,
    ThumbnailFigures,
    health_tooltip,
    short_sql,
    snapshot,
)
from db.metrics import QueryMetrics
from viewer.models.performance_tables import (
    NONE_TEXT,
    FigureTableModel,
    FunctionStatsModel,
    IndexUsageModel,
    LatencyTableModel,
    SlowStatementModel,
    StatementTableModel,
    TopStatementModel,
    fmt_bytes,
    fmt_clock,
    fmt_int,
    fmt_ms,
    fmt_rate,
    fmt_text,
)
from viewer.thumbnails.service import ThumbnailService, ThumbnailStats

log = logging.getLogger(__name__)

# At most four renders a second however busy the app is; none at all while nothing changes.
REFRESH_INTERVAL_MS = 250
BAND_COLOURS = {"good": "#1e8e3e", "fair": "#e37400", "poor": "#d93025"}
MEDIA_COLOUR = QColor("#4a7fd4")
CHECKLIST_COLOUR = QColor("#2e9e6b")
SLOW_COLOUR = QColor("#d93025")
MIN_SLOTS = 40


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


def resolve(figures: Any, path: str) -> Any:
    """The value at a dotted path of Figures (or of its JSON form)."""
    value = figures
    for part in path.split("."):
        if value is None:
            return None
        value = value.get(part) if isinstance(value, dict) else getattr(value, part)
    return value


@dataclass(frozen=True)
class Shown:
    """One text on the panel and the figures it is made of (the export must hold them all)."""

    paths: tuple[str, ...]
    fmt: Callable[..., str]
    widget: QLabel | QProgressBar | QPlainTextEdit
    hide_empty: bool = False

    def render(self, figures: Figures) -> None:
        text = self.fmt(*(resolve(figures, p) for p in self.paths))
        if text == self.text():
            pass
        elif isinstance(self.widget, QProgressBar):
            self.widget.setFormat(text)
        elif isinstance(self.widget, QPlainTextEdit):
            self.widget.setPlainText(text)
        else:
            self.widget.setText(text)
        if self.hide_empty:
            self.widget.setVisible(bool(text))

    def text(self) -> str:
        if isinstance(self.widget, QPlainTextEdit):
            return self.widget.toPlainText()
        return self.widget.text()


# --- small widgets ------------------------------------------------------------------------------


def _axis_label(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:g} s"
    return f"{ms:g} ms"


class LatencyChart(QWidget):
    """Recent media and checklist load latencies, log scale, with the slow threshold drawn."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("latencyChart")
        self._media: tuple[float, ...] = ()
        self._checklist: tuple[float, ...] = ()
        self._threshold_ms = 500.0
        self._points = 120
        self.setMinimumHeight(150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(420, 160)

    def set_series(
        self,
        media_ms: Sequence[float],
        checklist_ms: Sequence[float],
        threshold_ms: float,
        points: int,
    ) -> None:
        series = (tuple(media_ms), tuple(checklist_ms), threshold_ms, max(points, 1))
        if series != (self._media, self._checklist, self._threshold_ms, self._points):
            self._media, self._checklist, self._threshold_ms, self._points = series
            self.update()

    def series(self) -> tuple[tuple[float, ...], tuple[float, ...], float]:
        return self._media, self._checklist, self._threshold_ms

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.8))
        painter.setFont(small)
        metrics = painter.fontMetrics()
        plot = QRectF(self.rect()).adjusted(48, 22, -10, -8)
        painter.fillRect(plot, QColor("#ffffff"))
        painter.setPen(QPen(QColor("#c9c9c9"), 1))
        painter.drawRect(plot)

        values = [v for v in (*self._media, *self._checklist) if v > 0]
        low = math.floor(math.log10(max(min(values, default=1.0) * 0.8, 0.01)))
        high = math.ceil(math.log10(max(*values, self._threshold_ms * 1.6, 1.0)))
        high = max(high, low + 2)

        def y(value: float) -> float:
            share = (math.log10(max(value, 10.0**low)) - low) / (high - low)
            return plot.bottom() - share * plot.height()

        for decade in range(low, high + 1):
            gy = y(10.0**decade)
            painter.setPen(QPen(QColor("#ececec"), 1))
            painter.drawLine(QPointF(plot.left(), gy), QPointF(plot.right(), gy))
            painter.setPen(QColor("#707070"))
            label = _axis_label(10.0**decade)
            painter.drawText(
                QRectF(0, gy - 8, plot.left() - 4, 16),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                label,
            )

        # At least MIN_SLOTS slots, so a few loads are bars, not slivers at the right edge.
        shown = max(len(self._media[-self._points :]), len(self._checklist[-self._points :]))
        slot = plot.width() / max(min(self._points, MIN_SLOTS), min(shown, self._points))
        for i, value in enumerate(self._media[-self._points :]):
            x = plot.right() - (len(self._media[-self._points :]) - i) * slot
            colour = SLOW_COLOUR if value >= self._threshold_ms else MEDIA_COLOUR
            top = y(value)
            painter.fillRect(
                QRectF(x + 0.5, top, max(1.0, slot - 1.0), plot.bottom() - top), colour
            )
        checklist = self._checklist[-self._points :]
        if checklist:
            painter.setPen(QPen(CHECKLIST_COLOUR, 1.5))
            painter.setBrush(CHECKLIST_COLOUR)
            points = [
                QPointF(plot.right() - (len(checklist) - i - 0.5) * slot, y(v))
                for i, v in enumerate(checklist)
            ]
            painter.drawPolyline(points)
            for point in points:
                painter.drawEllipse(point, 1.8, 1.8)
            painter.setBrush(Qt.BrushStyle.NoBrush)

        ty = y(self._threshold_ms)
        painter.setPen(QPen(SLOW_COLOUR, 1.2, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(plot.left(), ty), QPointF(plot.right(), ty))
        painter.setPen(SLOW_COLOUR)
        painter.drawText(
            QRectF(plot.left(), ty - metrics.height() - 1, plot.width() - 4, metrics.height()),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom),
            f"slow ≥ {fmt_ms(self._threshold_ms)}",
        )

        legend_x = plot.left()
        for colour, name in ((MEDIA_COLOUR, "media loads"), (CHECKLIST_COLOUR, "checklist loads")):
            painter.fillRect(QRectF(legend_x, 7, 10, 10), colour)
            painter.setPen(QColor("#404040"))
            painter.drawText(QPointF(legend_x + 14, 16), name)
            legend_x += 22 + metrics.horizontalAdvance(name)
        if not self._media and not self._checklist:
            painter.setPen(QColor("#909090"))
            painter.drawText(plot, int(Qt.AlignmentFlag.AlignCenter), "No loads yet")
        painter.end()


class HealthBadge(QFrame):
    """The score on a coloured tile; the formula and its parts on hover."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("healthBadge")
        self.setFixedSize(84, 66)
        self.score = QLabel(NONE_TEXT)
        self.score.setObjectName("healthScore")
        self.score.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.score.font()
        font.setPointSizeF(font.pointSizeF() * 2.0)
        font.setBold(True)
        self.score.setFont(font)
        self.band = QLabel("")
        self.band.setObjectName("healthBand")
        self.band.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 4, 2, 4)
        layout.setSpacing(0)
        layout.addWidget(self.score)
        layout.addWidget(self.band)
        self.set_band("good")

    def set_band(self, band: str) -> None:
        colour = BAND_COLOURS.get(band, "#707070")
        sheet = (
            f"#healthBadge {{ background: {colour}; border-radius: 8px; }}"
            "#healthBadge QLabel { color: white; }"
        )
        if self.styleSheet() != sheet:
            self.setStyleSheet(sheet)


def _table(
    model: FigureTableModel[Any], stretch: int | None = None, widths: dict[int, int] | None = None
) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(22)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setHighlightSections(False)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    else:
        header.setStretchLastSection(True)
    for column, width in (widths or {}).items():
        # Long labels would take the room the SQL needs; the tooltip has them in full.
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(column, width)
    return view


def _message_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet("color: #606060;")
    label.setVisible(False)
    return label


def _value_label(name: str) -> QLabel:
    label = QLabel(NONE_TEXT)
    label.setObjectName(name)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _caption(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("color: #606060;")
    return label


def _n_plus_one_text(warnings: Sequence[NPlusOne]) -> str:
    if not warnings:
        return ""
    worst = max(warnings, key=lambda w: w.count)
    more = f" (and {len(warnings) - 1} more)" if len(warnings) > 1 else ""
    return (
        f"N+1 queries: {worst.action} ran {worst.count} similar statements "
        f"({fmt_ms(worst.total_ms)}){more}: {short_sql(worst.sql)}"
    )


def _statements_summary(actions: Sequence[Any], statements: Sequence[Any], truncated: int) -> str:
    similar = sum(a.similar for a in actions)
    duplicates = sum(a.duplicates for a in actions)
    text = (
        f"{len(statements) + truncated:,} statements in the last {len(actions)} actions, "
        f"{similar:,} similar, {duplicates:,} duplicates"
    )
    return text + (f" ({truncated:,} more not listed)" if truncated else "")


def _slow_summary(rows: Sequence[Any], limit: int) -> str:
    return f"{len(rows):,} kept (the newest {limit:,})"


def _slow_empty(rows: Sequence[Any], threshold_ms: float) -> str:
    if rows:
        return ""
    return f"No statement has taken {fmt_ms(threshold_ms)} or more since the counters started."


def _strategy(strategy: str | None) -> str:
    return strategy or NONE_TEXT


def _last_action_name(label: str | None, cancelled: bool | None, ok: bool | None) -> str:
    if label is None:
        return "No database action yet"
    if ok is False and not cancelled:
        return f"{label} (failed)"
    return label


def _errors_by_kind(errors: dict[str, int] | None) -> str:
    if not errors:
        return "none"
    return ", ".join(f"{kind} {n:,}" for kind, n in sorted(errors.items()))


def _cache_bar(used: int | None, cap: int | None, entries: int | None) -> str:
    if cap is None:
        return "no thumbnail cache"
    return f"{fmt_bytes(used)} of {fmt_bytes(cap)} in {fmt_int(entries)} thumbnails"


def _server_status(report: ServerReport | None) -> str:
    if report is None:
        return "Press Refresh to ask the database server."
    if not report.available:
        return report.message or "Not available."
    return (
        f"As of {fmt_clock(report.taken_at)}: {report.statements} statements in "
        f"{fmt_ms(report.duration_ms)}, not counted as actions."
    )


def _explain_summary(report: ServerReport | None) -> str:
    if report is None:
        return ""
    if not report.available:
        return report.message or ""
    explain = report.explain
    if explain is None:
        return report.explain_error or ""
    used = ", ".join(explain.indexes) if explain.indexes else "none (sequential scans only)"
    return (
        f"Batch query for {explain.inspection}. Indexes used: {used}. "
        f"Execution {fmt_ms(explain.execution_ms)}, planning {fmt_ms(explain.planning_ms)}, "
        f"buffers hit {fmt_int(explain.shared_hit)}, read {fmt_int(explain.shared_read)}."
    )


def _explain_plan(report: ServerReport | None) -> str:
    return "" if report is None or report.explain is None else report.explain.plan


def _server_message(part: str) -> Callable[[ServerReport | None], str]:
    def message(report: ServerReport | None) -> str:
        if report is None:
            return ""
        if not report.available:
            return report.message or ""
        return str(getattr(report, f"{part}_error") or "")

    return message


# --- the dock -----------------------------------------------------------------------------------


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
        self._shown: list[Shown] = []
        self._tables: dict[str, FigureTableModel[Any]] = {}

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
            thumbnails.thumbnail_ready.connect(self.notify_changed)
            thumbnails.thumbnail_failed.connect(self.notify_changed)

        body = QWidget()
        body.setObjectName("performanceBody")
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.setSpacing(6)
        layout.addLayout(self._build_header())
        self.n_plus_one_banner = QLabel()
        self.n_plus_one_banner.setObjectName("nPlusOneBanner")
        self.n_plus_one_banner.setWordWrap(True)
        self.n_plus_one_banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.n_plus_one_banner.setStyleSheet(
            "#nPlusOneBanner { background: #fff4d6; border: 1px solid #f0c36d;"
            " border-radius: 4px; padding: 5px 8px; color: #6b4b00; }"
        )
        self.n_plus_one_banner.setVisible(False)
        layout.addWidget(self.n_plus_one_banner)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("performanceTabs")
        self.tabs.addTab(self._build_overview(), "Overview")
        self.tabs.addTab(self._build_statements(), "Statements")
        self.tabs.addTab(self._build_slow(), "Slow")
        self.tabs.addTab(self._build_server(), "Server")
        layout.addWidget(self.tabs, 1)
        layout.addLayout(self._build_footer())
        self.setWidget(body)
        self.setMinimumWidth(460)

    # --- building -----------------------------------------------------------------------------

    def _show(
        self, widget: QLabel | QProgressBar | QPlainTextEdit, fmt: Callable[..., str], *paths: str
    ) -> None:
        self._shown.append(Shown(paths, fmt, widget))

    def _build_header(self) -> QHBoxLayout:
        self.health = HealthBadge()
        self._show(self.health.score, str, "health.score")
        self._show(self.health.band, str, "health.band")

        self.last_name = _value_label("lastActionName")
        bold = self.last_name.font()
        bold.setBold(True)
        self.last_name.setFont(bold)
        self.last_name.setWordWrap(True)
        self._show(
            self.last_name,
            _last_action_name,
            "last_action.label",
            "last_action.cancelled",
            "last_action.ok",
        )
        facts = QGridLayout()
        facts.setHorizontalSpacing(14)
        facts.setVerticalSpacing(2)
        facts.addWidget(self.last_name, 0, 0, 1, 4)
        self.last_statements = _value_label("lastActionStatements")
        self.last_strategy = _value_label("lastActionStrategy")
        self.last_time = _value_label("lastActionTime")
        self.last_rows = _value_label("lastActionRows")
        fields: tuple[tuple[str, QLabel, Callable[..., str], str], ...] = (
            ("Statements", self.last_statements, fmt_int, "last_action.statement_count"),
            ("Strategy", self.last_strategy, _strategy, "last_action.strategy"),
            ("Total time", self.last_time, fmt_ms, "last_action.duration_ms"),
            ("Rows", self.last_rows, fmt_int, "last_action.rows"),
        )
        for col, (caption, label, fmt, path) in enumerate(fields):
            facts.addWidget(_caption(caption), 1, col)
            value_font = label.font()
            value_font.setPointSizeF(value_font.pointSizeF() * 1.25)
            value_font.setBold(True)
            label.setFont(value_font)
            facts.addWidget(label, 2, col)
            self._show(label, fmt, path)
        facts.setColumnStretch(4, 1)
        header = QHBoxLayout()
        header.setSpacing(12)
        header.addWidget(self.health, 0, Qt.AlignmentFlag.AlignTop)
        header.addLayout(facts, 1)
        return header

    def _build_overview(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(8)

        self.latency_box = QGroupBox("Latency")
        latency_layout = QVBoxLayout(self.latency_box)
        self.latency_model = LatencyTableModel(self)
        self._tables["latency.rows"] = self.latency_model
        self.latency_table = _table(self.latency_model, stretch=0)
        self.latency_table.setObjectName("latencyTable")
        self.latency_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.latency_table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.latency_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.latency_table.setFixedHeight(22 * 5 + 4)
        latency_layout.addWidget(self.latency_table)
        self.chart = LatencyChart()
        latency_layout.addWidget(self.chart)
        layout.addWidget(self.latency_box)

        cache_box = QGroupBox("Thumbnail cache")
        cache_layout = QVBoxLayout(cache_box)
        self.cache_bar = QProgressBar()
        self.cache_bar.setObjectName("cacheBar")
        self.cache_bar.setTextVisible(True)
        self._show(
            self.cache_bar,
            _cache_bar,
            "thumbnails.bytes",
            "thumbnails.cap_bytes",
            "thumbnails.entries",
        )
        cache_layout.addWidget(self.cache_bar)
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        self.cache_labels: dict[str, QLabel] = {}
        for i, (caption, key, fmt) in enumerate(
            (
                ("Hit rate", "hit_rate", fmt_rate),
                ("Hits", "hits", fmt_int),
                ("Misses", "misses", fmt_int),
                ("Evictions", "evictions", fmt_int),
                ("Disk hits", "disk_hits", fmt_int),
                ("Decodes", "decodes", fmt_int),
            )
        ):
            label = _value_label(f"cache_{key}")
            self.cache_labels[key] = label
            grid.addWidget(_caption(caption), (i // 3) * 2, i % 3)
            grid.addWidget(label, (i // 3) * 2 + 1, i % 3)
            self._show(label, fmt, f"thumbnails.{key}")
        cache_layout.addLayout(grid)
        errors_row = QHBoxLayout()
        errors_row.addWidget(_caption("Decode errors"))
        self.cache_errors = _value_label("cacheErrors")
        self.cache_errors.setWordWrap(True)
        self._show(self.cache_errors, _errors_by_kind, "thumbnails.errors")
        errors_row.addWidget(self.cache_errors, 1)
        cache_layout.addLayout(errors_row)
        layout.addWidget(cache_box)

        resilience_box = QGroupBox("Resilience")
        resilience = QGridLayout(resilience_box)
        resilience.setHorizontalSpacing(14)
        self.resilience_labels: dict[str, QLabel] = {}
        for i, (caption, key) in enumerate(
            (
                ("Fallbacks", "fallbacks"),
                ("Retries", "retries"),
                ("Errors", "errors"),
                ("Actions", "actions"),
                ("Statements", "statements"),
            )
        ):
            label = _value_label(f"resilience_{key}")
            self.resilience_labels[key] = label
            resilience.addWidget(_caption(caption), 0, i)
            resilience.addWidget(label, 1, i)
            self._show(label, fmt_int, f"resilience.{key}")
        resilience.addWidget(_caption("Last error"), 2, 0)
        self.last_error = _value_label("lastError")
        self.last_error.setWordWrap(True)
        self.last_error.setStyleSheet("color: #8a1c13;")
        self._show(self.last_error, fmt_text, "resilience.last_error")
        resilience.addWidget(self.last_error, 2, 1, 1, 4)
        layout.addWidget(resilience_box)
        layout.addStretch(1)

        scroll = QScrollArea()
        scroll.setObjectName("overviewScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(page)
        return scroll

    def _build_statements(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(6, 6, 6, 6)
        self.statements_summary = _value_label("statementsSummary")
        self.statements_summary.setWordWrap(True)
        self._show(
            self.statements_summary,
            _statements_summary,
            "actions",
            "statements",
            "statements_truncated",
        )
        layout.addWidget(self.statements_summary)
        self.statement_model = StatementTableModel(self)
        self._tables["statements"] = self.statement_model
        self.statement_table = _table(self.statement_model, stretch=2, widths={0: 190})
        # "load_media inspection=INS-2026-0412": both ends say which load it was.
        self.statement_table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.statement_table.setObjectName("statementTable")
        layout.addWidget(self.statement_table, 1)
        return page

    def _build_slow(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(6, 6, 6, 6)
        row = QHBoxLayout()
        row.addWidget(QLabel("Statements at or over"))
        self.slow_threshold = QDoubleSpinBox()
        self.slow_threshold.setObjectName("slowThreshold")
        self.slow_threshold.setRange(1, 60_000)
        self.slow_threshold.setDecimals(0)
        self.slow_threshold.setSuffix(" ms")
        self.slow_threshold.setValue(self.metrics.slow_threshold_s * 1000)
        self.slow_threshold.setToolTip("Applies to statements of actions that finish from now on")
        self.slow_threshold.valueChanged.connect(self._set_slow_threshold)
        row.addWidget(self.slow_threshold)
        self.slow_summary = _value_label("slowSummary")
        self._show(
            self.slow_summary,
            _slow_summary,
            "slow.rows",
            "slow.limit",
        )
        row.addWidget(self.slow_summary, 1)
        layout.addLayout(row)
        self.slow_model = SlowStatementModel(self)
        self._tables["slow.rows"] = self.slow_model
        self.slow_empty = _message_label()
        self.slow_empty.setObjectName("slowEmpty")
        self._shown.append(
            Shown(("slow.rows", "slow.threshold_ms"), _slow_empty, self.slow_empty, hide_empty=True)
        )
        layout.addWidget(self.slow_empty)
        self.slow_table = _table(self.slow_model, stretch=3, widths={2: 170})
        self.slow_table.setObjectName("slowTable")
        layout.addWidget(self.slow_table, 1)
        return page

    def _build_server(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(6, 6, 6, 6)
        row = QHBoxLayout()
        self.server_button = QPushButton("Refresh")
        self.server_button.setObjectName("serverRefresh")
        self.server_button.setToolTip(
            "Ask the database server (these queries are not counted as actions)"
        )
        self.server_button.clicked.connect(self.refresh_server)
        row.addWidget(self.server_button)
        self.server_status = QLabel()
        self.server_status.setObjectName("serverStatus")
        self.server_status.setWordWrap(True)
        self._show(self.server_status, _server_status, "server")
        row.addWidget(self.server_status, 1)
        layout.addLayout(row)

        self.server_tabs = QTabWidget()
        self.server_tabs.setDocumentMode(True)

        explain = QWidget()
        explain_layout = QVBoxLayout(explain)
        explain_layout.setContentsMargins(0, 4, 0, 0)
        self.explain_indexes = QLabel()
        self.explain_indexes.setObjectName("explainIndexes")
        self.explain_indexes.setWordWrap(True)
        self.explain_indexes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._show(self.explain_indexes, _explain_summary, "server")
        explain_layout.addWidget(self.explain_indexes)
        self.explain_text = QPlainTextEdit()
        self.explain_text.setObjectName("explainText")
        self.explain_text.setReadOnly(True)
        self.explain_text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.explain_text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._show(self.explain_text, _explain_plan, "server")
        explain_layout.addWidget(self.explain_text, 1)
        self.server_tabs.addTab(explain, "EXPLAIN")

        self.index_model = IndexUsageModel(self)
        self.function_model = FunctionStatsModel(self)
        self.top_model = TopStatementModel(self)
        self.server_messages: dict[str, QLabel] = {}
        for key, model, title, stretch in (
            ("indexes", self.index_model, "Index usage", 0),
            ("functions", self.function_model, "Batch function", 0),
            ("top", self.top_model, "pg_stat_statements", 5),
        ):
            tab = QWidget()
            tab_layout = QVBoxLayout(tab)
            tab_layout.setContentsMargins(0, 4, 0, 0)
            message = _message_label()
            message.setObjectName(f"server_{key}_message")
            self.server_messages[key] = message
            self._shown.append(Shown(("server",), _server_message(key), message, hide_empty=True))
            self._tables[f"server.{key}"] = model
            tab_layout.addWidget(message)
            view = _table(model, stretch=stretch)
            view.setObjectName(f"server_{key}_table")
            tab_layout.addWidget(view, 1)
            self.server_tabs.addTab(tab, title)
        layout.addWidget(self.server_tabs, 1)
        return page

    def _build_footer(self) -> QHBoxLayout:
        footer = QHBoxLayout()
        self.copy_button = QPushButton("Copy JSON")
        self.copy_button.setObjectName("copyJson")
        self.copy_button.clicked.connect(self.copy_json)
        self.save_button = QPushButton("Save JSON…")
        self.save_button.setObjectName("saveJson")
        self.save_button.clicked.connect(self._ask_save_json)
        self.reset_button = QPushButton("Reset counters")
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
        self._show(self.updated, lambda at: f"updated {fmt_clock(at)}", "taken_at")
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
        for shown in self._shown:
            shown.render(figures)
        for path, model in self._tables.items():
            model.set_rows(resolve(figures, path) or ())
        self.health.set_band(figures.health.band)
        self.health.setToolTip(health_tooltip(figures.health))
        self.health.score.setToolTip(self.health.toolTip())
        banner = _n_plus_one_text(figures.n_plus_one)
        self.n_plus_one_banner.setText(banner)
        self.n_plus_one_banner.setVisible(bool(banner))
        self.latency_box.setTitle(
            f"Latency (rolling window of the last {figures.latency.window:,})"
        )
        self.latency_model.slow_threshold_ms = figures.latency.slow_threshold_ms
        self.statement_model.n_plus_one_threshold = figures.settings.n_plus_one_threshold
        self.chart.set_series(
            figures.latency.recent_ms.get(CHART_KINDS[0], ()),
            figures.latency.recent_ms.get(CHART_KINDS[1], ()),
            figures.latency.slow_threshold_ms,
            figures.settings.chart_points,
        )
        thumbs = figures.thumbnails
        cap_kib = max(1, (thumbs.cap_bytes if thumbs else 0) // 1024)
        self.cache_bar.setRange(0, cap_kib)
        self.cache_bar.setValue(min(cap_kib, (thumbs.bytes if thumbs else 0) // 1024))
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
        self.server_button.setEnabled(False)
        self.server_status.setText("Asking the database server…")
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
            self.server_button.setEnabled(True)
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
        self.export_status.setText("Copied")

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
        return list(self._shown)

    def tables(self) -> dict[str, FigureTableModel[Any]]:
        return dict(self._tables)

    def shutdown(self) -> None:
        """Stop listening and cancel a server request still running."""
        self._unwatch()
        if shiboken6.isValid(self._timer):  # gone already if the window was deleted first
            self._timer.stop()
        if self._server_task is not None and not self._server_task.done():
            self._server_task.cancel()
