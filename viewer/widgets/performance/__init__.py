"""The performance panel dock: header, Overview, Statements, Slow and Server tabs, JSON export."""

from viewer.widgets.performance.panel import PerformancePanel

__all__ = ["PerformancePanel"]
