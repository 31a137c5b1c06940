"""Getting a database ready for the GUI: start the server, migrate, first-run demo data.

Blocking work: the GUI runs it in a worker thread and shows the progress it reports.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from db import deploy, migrate
from db.config import AppPaths
from db.engine import Database, DatabaseTarget, check_reachable, make_engine
from db.errors import KnownError

Progress = Callable[[str, int, int], None]  # (what is happening, done, total); total 0 = unknown


def prepare(database: Database, paths: AppPaths, progress: Progress) -> DatabaseTarget:
    """Return a reachable database at the newest schema, with demo data on a first embedded run.

    A team's server is never changed behind its owner's back: if it needs a migration, the
    message says which command to run.
    """
    progress(
        "Starting the database server..."
        if database.is_embedded
        else "Connecting to the database...",
        0,
        0,
    )
    if database.is_embedded:
        paths.data_dir.mkdir(parents=True, exist_ok=True)
    target = database.open()
    check_reachable(target)
    engine = make_engine(target.url)
    try:
        with engine.connect() as conn:
            current = migrate.current_revision(conn)
        head = migrate.head_revision()
        if current != head:
            if not target.embedded:
                raise KnownError(
                    f"the database is at schema revision {current or 'base (empty)'}, the app "
                    f"needs {head}: run `inspection-viewer --database-url ... db upgrade`"
                )
            _migrate(engine, target, paths, progress)
        if target.embedded:
            _first_run_demo(engine, paths, progress)
    finally:
        engine.dispose()
    return target


def _migrate(engine: Engine, target: DatabaseTarget, paths: AppPaths, progress: Progress) -> None:
    steps = len(migrate.revision_chain())
    done = [0]

    def step(result: migrate.StepResult) -> None:
        done[0] += 1
        progress(f"Preparing the database: {result.description}", done[0], steps)

    progress("Preparing the database...", 0, steps)
    deploy.run(
        engine,
        action="upgrade",
        target="head",
        database=target.display,
        reports_dir=paths.reports_dir,
        rollback_hint=lambda rev: f"inspection-viewer db downgrade {rev}",
        on_step=step,
    )


def _first_run_demo(engine: Engine, paths: AppPaths, progress: Progress) -> None:
    from contextlib import closing

    from db.demo import database_is_empty, generate_demo
    from db.storage import open_media

    if database_is_empty(engine):
        with closing(open_media(paths)) as store:
            generate_demo(
                engine,
                store,
                progress=lambda phase, done, total: progress(
                    f"Creating demo inspections: {phase}", done, total
                ),
            )
