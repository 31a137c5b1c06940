"""The performance panel's figures, analysis, health score, server report and JSON snapshot."""

from db.diagnostics.analysis import analyze_action, display_label, elide_sql, short_sql
from db.diagnostics.collect import Collector, collect
from db.diagnostics.figures import (
    CHART_KINDS,
    DIAGNOSTICS_KIND,
    LATENCY_KINDS,
    ExplainFigures,
    Figures,
    LatencyRow,
    NPlusOne,
    PanelSettings,
    ServerProvider,
    ServerReport,
    SlowRow,
    StatementRow,
    ThumbnailFigures,
    TopStatement,
)
from db.diagnostics.health import health_score, health_tooltip
from db.diagnostics.plan import plan_indexes, render_plan
from db.diagnostics.server import OFFLINE_MESSAGE, engine_server_report, server_report
from db.diagnostics.snapshot import SnapshotError, load, snapshot

__all__ = [
    "CHART_KINDS",
    "DIAGNOSTICS_KIND",
    "LATENCY_KINDS",
    "OFFLINE_MESSAGE",
    "Collector",
    "ExplainFigures",
    "Figures",
    "LatencyRow",
    "NPlusOne",
    "PanelSettings",
    "ServerProvider",
    "ServerReport",
    "SlowRow",
    "SnapshotError",
    "StatementRow",
    "ThumbnailFigures",
    "TopStatement",
    "analyze_action",
    "collect",
    "display_label",
    "elide_sql",
    "engine_server_report",
    "health_score",
    "health_tooltip",
    "load",
    "plan_indexes",
    "render_plan",
    "server_report",
    "short_sql",
    "snapshot",
]
