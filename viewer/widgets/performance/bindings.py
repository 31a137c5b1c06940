"""Which widget shows which figures: each text and table bound to its paths in Figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from PySide6.QtWidgets import QLabel, QPlainTextEdit, QProgressBar

from db.diagnostics.figures import Figures
from viewer.models.performance_tables import FigureTableModel

M = TypeVar("M", bound=FigureTableModel[Any])
TextWidget = QLabel | QProgressBar | QPlainTextEdit


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
    widget: TextWidget
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


class Bindings:
    """Every text and table of the panel, in the order they were built; one render fills all."""

    def __init__(self) -> None:
        self.shown: list[Shown] = []
        self.tables: dict[str, FigureTableModel[Any]] = {}

    def show(
        self, widget: TextWidget, fmt: Callable[..., str], *paths: str, hide_empty: bool = False
    ) -> None:
        self.shown.append(Shown(paths, fmt, widget, hide_empty))

    def table(self, path: str, model: M) -> M:
        """`model` gets the rows at `path` on every render."""
        self.tables[path] = model
        return model

    def render(self, figures: Figures) -> None:
        for shown in self.shown:
            shown.render(figures)
        for path, model in self.tables.items():
            model.set_rows(resolve(figures, path) or ())
