"""`db upgrade` and `db downgrade`: deploy runs with progress, checks and an audit report."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from db.config import mask_url
from viewer.cli.context import Context
from viewer.cli.database.health import print_checks
from viewer.cli.options import PROG, Subparsers
from viewer.console import err, out
from viewer.console import progress as progress_bar

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from db import deploy, migrate
    from db.engine import DatabaseTarget


def add_parsers(actions: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    up = actions.add_parser(
        "upgrade",
        parents=parents,
        help="migrate to the newest schema (pre-flight, validation, audit report)",
    )
    up.add_argument(
        "revision", nargs="?", default="head", help="target revision (default head, the newest)"
    )
    up.set_defaults(handler=run_upgrade)
    down = actions.add_parser(
        "downgrade", parents=parents, help="roll back migrations (default: one step)"
    )
    down.add_argument(
        "revision",
        nargs="?",
        default="-1",
        help="target revision, 'base' for none, or -N steps (default -1)",
    )
    down.set_defaults(handler=run_downgrade)


def run_upgrade(args: argparse.Namespace, ctx: Context) -> int:
    return _migrate("upgrade", args.revision, ctx)


def run_downgrade(args: argparse.Namespace, ctx: Context) -> int:
    return _migrate("downgrade", args.revision, ctx)


def upgrade_quietly(engine: Engine, ctx: Context, target: DatabaseTarget) -> None:
    """Bring the schema to head if it is behind, without the tables `db upgrade` prints."""
    from db import migrate

    with engine.connect() as conn:
        current = migrate.current_revision(conn)
    if current != migrate.head_revision():
        _run_migration("upgrade", "head", engine, ctx, target)


def _migrate(action: str, revision: str, ctx: Context) -> int:
    from db.engine import make_engine

    with ctx.target() as target:
        engine = make_engine(target.url)
        try:
            report = _run_migration(action, revision, engine, ctx, target)
        finally:
            engine.dispose()
    print_checks("Pre-flight", [(c.name, c.status, c.detail) for c in report.preflight])
    if report.validation:
        print_checks(
            "validate_optimization()",
            [(c.check_name, c.status, c.detail) for c in report.validation],
        )
    out.print(
        f"{action}: {report.from_revision or 'base'} -> {report.to_revision or 'base'} "
        f"in {report.seconds:.2f} s, {len(report.steps)} step(s)"
    )
    out.print(f"Rollback: {report.rollback_command}", markup=False)
    out.print(f"Audit report: {', '.join(report.files)}", markup=False)
    if report.validation and not report.validation_passed:
        err.print("validation failed after the migration: see the table above")
        return 1
    return 0


def _rollback_hint(ctx: Context, target: DatabaseTarget) -> Callable[[str], str]:
    where = (
        f" --data-dir {ctx.paths.data_dir}"
        if target.embedded
        else f" --database-url '{mask_url(target.url)}'"
    )

    def hint(revision: str) -> str:
        return f"{PROG}{where} db downgrade {revision}"

    return hint


def _run_migration(
    action: str, revision: str, engine: Engine, ctx: Context, target: DatabaseTarget
) -> deploy.AuditReport:
    from db import deploy

    hint = _rollback_hint(ctx, target)
    with progress_bar() as progress:
        task = progress.add_task(f"db {action} {revision}", total=None)

        def step(result: migrate.StepResult) -> None:
            progress.console.print(
                f"  {result.direction} {result.revision}: "
                f"{result.description} ({result.seconds:.2f} s)"
            )
            progress.advance(task)

        try:
            report = deploy.run(
                engine,
                action=action,
                target=revision,
                database=target.display,
                reports_dir=ctx.paths.reports_dir,
                rollback_hint=hint,
                on_step=step,
            )
        finally:
            progress.update(task, total=1, completed=1)
    return report
