"""The terminal side of the command line: one stdout and one stderr console, and progress bars."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

# Messages are one line each, whatever the terminal width (scripts and tests read them).
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def progress() -> Progress:
    """A progress bar on stderr, so stdout stays clean for what a script reads.

    Only on a terminal: in a pipe or a file rich would print the bars' last state at the end,
    and a failure would no longer be one line."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )
