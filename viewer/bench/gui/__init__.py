"""`inspection-viewer bench gui`: the real main window, measured as a user would feel it.

The options are in `options.py` (imported when the command line is built, so kept light); Qt,
the data and the measuring are imported only when the command runs.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from db.errors import ConfigError

if TYPE_CHECKING:
    from rich.progress import TaskID

    from db.engine import DatabaseTarget
    from db.progress import ProgressCallback

RECORD_WIDTH = 200


class CommandContext(Protocol):
    """What the command needs of the CLI's Context: the database, reachable while it runs."""

    def target(self) -> contextlib.AbstractContextManager[DatabaseTarget]: ...


def run(args: argparse.Namespace, ctx: CommandContext) -> bool:
    """Run the GUI benchmark on the CLI's database server; whether every target was met."""
    from rich.console import Console

    from viewer.bench.gui.report import print_report, write_markdown
    from viewer.bench.gui.results import command_line, config_from_args, to_json
    from viewer.bench.gui.runner import run_gui_benchmark
    from viewer.console import err

    for path in (args.json, args.markdown):
        if path is not None and not path.resolve().parent.is_dir():
            raise ConfigError(f"folder {path.resolve().parent} does not exist")
    out = Console(highlight=False, soft_wrap=True)
    if not out.is_terminal:  # a file or a pipe: no terminal width to fit, keep rows whole
        out = Console(highlight=False, soft_wrap=True, width=RECORD_WIDTH)
    with ctx.target() as target:
        report = run_gui_benchmark(
            target.url,
            config_from_args(args),
            command=command_line(args),
            embedded=target.embedded,
            progress_bar=_phase_progress,
            say=lambda line: err.print(line, markup=False),
        )
    print_report(report, out)
    if args.json is not None:
        import json

        args.json.write_text(json.dumps(to_json(report), indent=1) + "\n")
        out.print(f"JSON: {args.json}", markup=False)
    if args.markdown is not None:
        write_markdown(report, args.markdown)
        out.print(f"Markdown: {args.markdown}", markup=False)
    return report.passed


@contextlib.contextmanager
def _phase_progress() -> Iterator[ProgressCallback]:
    """One bar per phase on stderr while the data is made (as the CLI's other commands)."""
    from viewer.console import progress as progress_bar

    with progress_bar() as progress:
        tasks: dict[str, TaskID] = {}

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase, total=total)
            progress.update(tasks[phase], completed=done, total=total)

        yield report
