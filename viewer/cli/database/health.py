"""`db status`, `validate`, `verify-indexes` and `analyze`: read-only looks at the database."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from rich.table import Table

from db.errors import KnownError
from db.storage import open_media
from viewer.cli.context import Context
from viewer.cli.options import PROG, Subparsers, positive_int
from viewer.console import out

if TYPE_CHECKING:
    from sqlalchemy import Connection


T = TypeVar("T")


def add_parsers(actions: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    actions.add_parser(
        "status", parents=parents, help="server, revision and data at a glance"
    ).set_defaults(handler=run_status)
    actions.add_parser(
        "validate", parents=parents, help="run validate_optimization(); exit 1 if a check fails"
    ).set_defaults(handler=run_validate)
    actions.add_parser(
        "verify-indexes", parents=parents, help="run verify_index_usage()"
    ).set_defaults(handler=run_verify_indexes)
    analyze = actions.add_parser("analyze", parents=parents, help="run analyze_query_performance()")
    analyze.add_argument(
        "--function",
        default="get_inspection_media_batch",
        help="the server function to analyse (default get_inspection_media_batch)",
    )
    analyze.add_argument(
        "--hours",
        type=positive_int,
        default=24,
        help="how far back the query log is read (default 24)",
    )
    analyze.set_defaults(handler=run_analyze)


def print_checks(title: str, rows: list[tuple[str, str, str]]) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    colours = {"pass": "green", "warn": "yellow", "fail": "red"}
    for name, status, detail in rows:
        table.add_row(name, f"[{colours.get(status, 'white')}]{status}[/]", detail)
    out.print(table)


def require_newest_schema(conn: Connection) -> None:
    """A KnownError naming the command to run unless the database is at the newest schema (a
    query on a missing table would otherwise be the user's first news of it)."""
    from db import migrate

    current = migrate.current_revision(conn)
    head = migrate.head_revision()
    if current == head:
        return
    if current is None:
        raise KnownError(
            f"the database has no inspection tables yet: run `{PROG} db upgrade` first"
        )
    if current not in {rev for rev, _ in migrate.revision_chain()}:
        raise KnownError(
            f"the database is at schema revision {current}, which this version of {PROG} "
            "does not know (a newer version migrated it): update the app"
        )
    raise KnownError(
        f"the database is at schema revision {current}, not the newest ({head}): "
        f"run `{PROG} db upgrade` first"
    )


def _on_migrated(ctx: Context, query: Callable[[Connection], T]) -> T:
    """Run one read-only query function on a database at the newest schema."""
    from db.engine import make_engine

    with ctx.target() as target:
        engine = make_engine(target.url)
        try:
            with engine.connect() as conn:
                require_newest_schema(conn)
                return query(conn)
        finally:
            engine.dispose()


def run_status(args: argparse.Namespace, ctx: Context) -> int:
    from sqlalchemy import text

    from db import migrate
    from db.engine import make_engine

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
    with contextlib.closing(open_media(ctx.paths)) as store:
        summary.add_row("media", store.display)
    out.print(summary)
    return 0


def run_validate(args: argparse.Namespace, ctx: Context) -> int:
    from db.performance import validate_optimization

    checks = _on_migrated(ctx, validate_optimization)
    print_checks("validate_optimization()", [(c.check_name, c.status, c.detail) for c in checks])
    failed = [c for c in checks if not c.passed]
    out.print(f"{len(checks) - len(failed)} of {len(checks)} checks passed")
    return 1 if failed else 0


def run_verify_indexes(args: argparse.Namespace, ctx: Context) -> int:
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


def run_analyze(args: argparse.Namespace, ctx: Context) -> int:
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
