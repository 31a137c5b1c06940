"""The Overview tab: latency windows and chart, the thumbnail cache, resilience counters."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from db.diagnostics.figures import CHART_KINDS, Figures
from viewer.models.performance_tables import (
    LatencyTableModel,
    fmt_bytes,
    fmt_int,
    fmt_rate,
    fmt_text,
)
from viewer.widgets.performance.bindings import Bindings
from viewer.widgets.performance.chart import LatencyChart
from viewer.widgets.performance.parts import caption, table_view, value_label

CACHE_FIGURES = (
    ("Hit rate", "hit_rate", fmt_rate),
    ("Hits", "hits", fmt_int),
    ("Misses", "misses", fmt_int),
    ("Evictions", "evictions", fmt_int),
    ("Disk hits", "disk_hits", fmt_int),
    ("Decodes", "decodes", fmt_int),
)
RESILIENCE_FIGURES = (
    ("Fallbacks", "fallbacks"),
    ("Retries", "retries"),
    ("Errors", "errors"),
    ("Actions", "actions"),
    ("Statements", "statements"),
)


def _errors_by_kind(errors: dict[str, int] | None) -> str:
    if not errors:
        return "none"
    return ", ".join(f"{kind} {n:,}" for kind, n in sorted(errors.items()))


def _cache_bar(used: int | None, cap: int | None, entries: int | None) -> str:
    if cap is None:
        return "no thumbnail cache"
    return f"{fmt_bytes(used)} of {fmt_bytes(cap)} in {fmt_int(entries)} thumbnails"


class OverviewTab(QScrollArea):
    """Three boxes in a scroll area: latency, thumbnail cache, resilience."""

    def __init__(self, bindings: Bindings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bindings = bindings
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(8)
        layout.addWidget(self._latency_box())
        layout.addWidget(self._cache_box())
        layout.addWidget(self._resilience_box())
        layout.addStretch(1)
        self.setObjectName("overviewScroll")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(page)

    def _latency_box(self) -> QGroupBox:
        self.latency_box = QGroupBox(self.tr("Latency"))
        latency_layout = QVBoxLayout(self.latency_box)
        self.latency_model = self.bindings.table("latency.rows", LatencyTableModel(self))
        self.latency_table = table_view(self.latency_model, stretch=0)
        self.latency_table.setObjectName("latencyTable")
        self.latency_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.latency_table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.latency_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.latency_table.setFixedHeight(22 * 5 + 4)
        latency_layout.addWidget(self.latency_table)
        self.chart = LatencyChart()
        latency_layout.addWidget(self.chart)
        return self.latency_box

    def _cache_box(self) -> QGroupBox:
        cache_box = QGroupBox(self.tr("Thumbnail cache"))
        cache_layout = QVBoxLayout(cache_box)
        self.cache_bar = QProgressBar()
        self.cache_bar.setObjectName("cacheBar")
        self.cache_bar.setTextVisible(True)
        self.bindings.show(
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
        for i, (text, key, fmt) in enumerate(CACHE_FIGURES):
            label = value_label(f"cache_{key}")
            self.cache_labels[key] = label
            grid.addWidget(caption(text), (i // 3) * 2, i % 3)
            grid.addWidget(label, (i // 3) * 2 + 1, i % 3)
            self.bindings.show(label, fmt, f"thumbnails.{key}")
        cache_layout.addLayout(grid)
        errors_row = QHBoxLayout()
        errors_row.addWidget(caption("Decode errors"))
        self.cache_errors = value_label("cacheErrors")
        self.cache_errors.setWordWrap(True)
        self.bindings.show(self.cache_errors, _errors_by_kind, "thumbnails.errors")
        errors_row.addWidget(self.cache_errors, 1)
        cache_layout.addLayout(errors_row)
        return cache_box

    def _resilience_box(self) -> QGroupBox:
        resilience_box = QGroupBox(self.tr("Resilience"))
        resilience = QGridLayout(resilience_box)
        resilience.setHorizontalSpacing(14)
        self.resilience_labels: dict[str, QLabel] = {}
        for i, (text, key) in enumerate(RESILIENCE_FIGURES):
            label = value_label(f"resilience_{key}")
            self.resilience_labels[key] = label
            resilience.addWidget(caption(text), 0, i)
            resilience.addWidget(label, 1, i)
            self.bindings.show(label, fmt_int, f"resilience.{key}")
        resilience.addWidget(caption("Last error"), 2, 0)
        self.last_error = value_label("lastError")
        self.last_error.setWordWrap(True)
        self.last_error.setStyleSheet("color: #8a1c13;")
        self.bindings.show(self.last_error, fmt_text, "resilience.last_error")
        resilience.addWidget(self.last_error, 2, 1, 1, 4)
        return resilience_box

    def show_figures(self, figures: Figures) -> None:
        """What the bound texts and tables cannot say: titles, the chart, the cache bar's fill."""
        self.latency_box.setTitle(
            f"Latency (rolling window of the last {figures.latency.window:,})"
        )
        self.latency_model.slow_threshold_ms = figures.latency.slow_threshold_ms
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
