"""What every command's parser shares: the program name, one-line usage errors, global options."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn, TypeAlias

from viewer.console import err

PROG = "inspection-viewer"
EXIT_USAGE = 2

# The subparsers of a UsageParser; argparse does not export the action's class.
Subparsers: TypeAlias = "argparse._SubParsersAction[Any]"


class UsageParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (plus the hint to --help) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        err.print(f"{self.prog}: error: {message} (see {self.prog} --help)", markup=False)
        raise SystemExit(EXIT_USAGE)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def add_global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
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
        help="one folder for all the app keeps (embedded database, settings, caches, log) "
        "instead of the XDG folders (also INSPECTION_VIEWER_HOME)",
    )
    parser.add_argument(
        "--media-root",
        dest="media_dir",
        metavar="DIR",
        default=default,
        help="folder that media storage keys are relative to (default: <data dir>/media)",
    )
    parser.add_argument(
        "--media-url",
        metavar="URL",
        default=default,
        help="where the photos are: file:///path or s3://bucket/prefix, reached with the "
        "AWS_* variables or profile (also INSPECTION_VIEWER_MEDIA_URL)",
    )
    parser.add_argument(
        "--media-cache-mb",
        type=positive_int,
        metavar="MB",
        default=default,
        help="local cache of photos downloaded from S3 (default 2048; also "
        "INSPECTION_VIEWER_MEDIA_CACHE_MB)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS if suppress else 0,
        help="more log output (-vv for debug)",
    )


def common_options() -> argparse.ArgumentParser:
    """The parent parser that gives every subcommand the global options too."""
    common = UsageParser(add_help=False)
    add_global_options(common, suppress=True)
    return common
