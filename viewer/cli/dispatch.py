"""The one way a command runs: parse, resolve the Context, call its handler, map known errors.

Whatever goes wrong is one line on stderr: a known error in its own words, a bug as "Unexpected
error" with its traceback in the log file (AppPaths.log_file: the user's state folder,
or <data dir>/logs with --data-dir).
Qt is imported only when the GUI runs, so the database commands start fast and work headless.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from db.config import database_url_from_env, mask_url, resolve_paths
from db.errors import UNEXPECTED, ConfigError, KnownError, user_message
from db.folders import move_legacy_files
from viewer import __version__
from viewer.cli.context import Context
from viewer.cli.logs import CommandLogging
from viewer.cli.options import EXIT_USAGE, PROG
from viewer.cli.parser import parse_args
from viewer.console import err

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    # --help and --version end in parse_args, before the data layer (SQLAlchemy) loads.
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from db.engine import Database

    with CommandLogging(args.verbose or 0) as logs:
        try:
            paths = resolve_paths(
                args.data_dir, args.media_dir, args.media_url, args.media_cache_mb
            )
            moved = move_legacy_files(paths)
            logs.add_file(paths.log_file)
            url = database_url_from_env(args.database_url)
            log.info(
                "%s %s started (%s): database %s, data dir %s",
                PROG,
                __version__,
                getattr(args, "command", None) or "window",
                mask_url(url) if url else "embedded",
                paths.data_dir,
            )
            for line in moved:
                log.info("%s", line)
            ctx = Context(paths, Database(paths, url))
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
        except Exception as exc:  # a bug, or the outside world failing where no seam expected it
            message = user_message(exc, log, "the command")
            bug = type(exc).__name__
            if logs.log_file is not None and message == UNEXPECTED.format(name=bug):
                message = f"Unexpected error ({bug}). Details are in {logs.log_file}."
            err.print(f"{PROG}: {message}", markup=False)
            return 1
