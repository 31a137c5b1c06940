"""The one progress callback shape: long jobs report (label, done, total) to whoever shows it."""

from __future__ import annotations

from collections.abc import Callable

# total == 0 means "not known yet" (an indeterminate bar).
ProgressCallback = Callable[[str, int, int], None]


def no_progress(label: str, done: int, total: int) -> None:
    """The callback for callers that show nothing."""
