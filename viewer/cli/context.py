"""What a command's handler gets besides its options: the paths and the database, resolved once."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.progress import TaskID

from db.config import AppPaths
from db.progress import ProgressCallback
from viewer.console import err
from viewer.console import progress as progress_bar

if TYPE_CHECKING:
    from db.engine import Database, DatabaseTarget


@dataclass
class Context:
    """What every command needs, resolved once from the options."""

    paths: AppPaths
    database: Database

    @contextlib.contextmanager
    def target(self) -> Iterator[DatabaseTarget]:
        """The database, reachable, for the duration of one command."""
        from db.engine import check_reachable

        embedded = self.database.is_embedded
        if embedded and not self.paths.data_dir.exists():
            self.paths.data_dir.mkdir(parents=True)
        try:
            if embedded:
                with err.status("Starting the embedded PostgreSQL server..."):
                    target = self.database.open()
            else:
                target = self.database.open()
            check_reachable(target)
            yield target
        finally:
            self.database.close()


@contextlib.contextmanager
def phase_progress() -> Iterator[ProgressCallback]:
    """A progress callback that draws one bar per phase on stderr while the block runs."""
    with progress_bar() as progress:
        tasks: dict[str, TaskID] = {}

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase, total=total)
            progress.update(tasks[phase], completed=done, total=total)

        yield report
