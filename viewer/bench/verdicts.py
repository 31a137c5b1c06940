"""The PASS/FAIL lines every bench command ends with."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console

from viewer.bench.results import TargetResult

_COLOURS = {"pass": "green", "fail": "red", "skip": "yellow"}


def print_verdicts(
    console: Console, targets: Iterable[TargetResult], *, passed: bool, seconds: float
) -> None:
    """One line per target, coloured by its status, then the verdict and the run's time."""
    for t in targets:
        colour = _COLOURS.get(t.status, "white")
        console.print(
            f"[{colour}]{t.status.upper():4}[/] {_escape(t.description)}: "
            f"{_escape(t.measured)} (target {_escape(t.threshold)})"
        )
    verdict = "all targets met" if passed else "some targets failed"
    console.print(f"{verdict}; {seconds:.0f} s in all", markup=False)


def _escape(text: str) -> str:
    """Text from the measurements is not markup ("[1, 1]" is a list, not a style)."""
    return text.replace("[", r"\[")
