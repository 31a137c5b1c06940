"""`db start`, `stop`, `url` and `psql`: the embedded server's lifetime, and psql on any server."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess

from db.config import libpq_url, mask_url
from db.errors import ConfigError, KnownError
from viewer.cli.context import Context
from viewer.cli.options import PROG, Subparsers
from viewer.console import err, out


def add_parsers(actions: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    actions.add_parser(
        "start",
        parents=parents,
        help="start the embedded server and leave it running; print its URL",
    ).set_defaults(handler=run_start)
    actions.add_parser("stop", parents=parents, help="stop the embedded server").set_defaults(
        handler=run_stop
    )
    url = actions.add_parser(
        "url",
        parents=parents,
        help="print the database's libpq URL (the password as *** unless --show-password)",
        description="Print the database's URL in the form psql accepts. A password in it "
        "(user:password@ or ?password=) is shown as *** unless --show-password is given.",
    )
    url.add_argument(
        "--show-password",
        action="store_true",
        help="print the password in clear (it then shows in the terminal and its history)",
    )
    url.set_defaults(handler=run_url)
    psql = actions.add_parser(
        "psql",
        parents=parents,
        help="run psql on the database",
        description="Run psql on the database (the embedded server is started for it and "
        "stopped after). Every argument after `psql` goes to psql.",
        epilog="For example: "
        f"{PROG} db psql -c 'SELECT * FROM validate_optimization()'; psql's own help: "
        f"{PROG} db psql -- --help",
    )
    # Everything after `psql` goes to psql untouched (split_psql_args, before parsing:
    # argparse would read psql's own -c and -v as ours).
    psql.set_defaults(handler=run_psql, psql_args=[])


def split_psql_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Our arguments, and those after `db psql` (without a leading --) that psql gets."""
    for i in range(len(argv) - 1):
        if argv[i] == "db" and argv[i + 1] == "psql":
            rest = argv[i + 2 :]
            if rest[:1] == ["--"]:
                return argv[: i + 2], rest[1:]
            if "--help" in rest:  # ours first (psql's: `db psql -- --help`); -h is psql's host
                return [*argv[: i + 2], "--help"], []
            return argv[: i + 2], rest
    return argv, []


def _embedded_only(ctx: Context, action: str) -> None:
    if not ctx.database.is_embedded:
        raise ConfigError(
            f"`db {action}` is for the embedded server; "
            "a server given by --database-url is managed by its owner"
        )


def run_start(args: argparse.Namespace, ctx: Context) -> int:
    _embedded_only(ctx, "start")
    ctx.paths.data_dir.mkdir(parents=True, exist_ok=True)
    with err.status("Starting the embedded PostgreSQL server..."):
        target = ctx.database.open(keep_running=True)
    ctx.database.close()  # the handle goes; the server stays until `db stop`
    out.print(mask_url(target.url), markup=False, soft_wrap=True)
    return 0


def run_stop(args: argparse.Namespace, ctx: Context) -> int:
    from db.embedded import stop_server

    _embedded_only(ctx, "stop")
    if stop_server(ctx.paths.pgdata):
        out.print(f"stopped the embedded server in {ctx.paths.pgdata}", markup=False)
    else:
        out.print(f"no embedded server was running in {ctx.paths.pgdata}", markup=False)
    return 0


def run_url(args: argparse.Namespace, ctx: Context) -> int:
    from db.embedded import running_postmaster_pid

    if not ctx.database.is_embedded:
        url = ctx.database.open().url
        shown = libpq_url(url) if args.show_password else mask_url(url)
        out.print(shown, markup=False, soft_wrap=True)
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
    from db.embedded import bundled_bin

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


def run_psql(args: argparse.Namespace, ctx: Context) -> int:
    with ctx.target() as target:
        env = dict(os.environ)
        url = target.url
        # The password is kept off the command line (ps shows it), in either place it may be.
        query = dict(url.query)
        in_query = query.pop("password", None)
        password = url.password or in_query
        if password:
            env["PGPASSWORD"] = str(password)
            url = url._replace(password=None).set(query=query)
        cmd = [_psql_binary(target.embedded), libpq_url(url), *args.psql_args]
        return subprocess.call(cmd, env=env)
