"""Markdown for the bench reports: tables, and a generated section inside a hand-written file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A table's lines; the first column left-aligned, figures right-aligned."""
    align = ["---"] + ["---:"] * (len(headers) - 1)
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def write_section(path: Path, fragment: str, begin: str, end: str) -> None:
    """Write `fragment` (which starts with `begin` and ends with `end`) over the section between
    those markers in an existing file, or as the whole file when it has none."""
    if path.exists():
        text = path.read_text()
        start, stop = text.find(begin), text.find(end)
        if start != -1 and stop > start:
            after = text[stop + len(end) :]
            path.write_text(text[:start] + fragment + after.removeprefix("\n"))
            return
    path.write_text(fragment)
