"""The whole command line: the top-level options and one `add_parser` per command group."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from viewer import __version__
from viewer.cli import bench, database, demo, desktop, gui, media, offline, report, review
from viewer.cli.database.server import split_psql_args
from viewer.cli.options import PROG, UsageParser, add_global_options, common_options


def build_parser() -> argparse.ArgumentParser:
    """Every parser sets `handler`, a function (args, ctx) -> exit code; the window is the
    top-level default."""
    parser = UsageParser(
        prog=PROG,
        description="Review building inspections and their photos. With no COMMAND, the main "
        "window opens on the database; the commands work in the terminal and open no window, "
        "except `open`, which opens it on an offline bundle.",
    )
    add_global_options(parser, suppress=False)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    gui.add_options(parser)
    sub = parser.add_subparsers(metavar="COMMAND", dest="command", parser_class=UsageParser)
    parents = [common_options()]
    demo.add_parser(sub, parents)
    offline.add_parsers(sub, parents)
    review.add_parser(sub, parents)
    report.add_parser(sub, parents)
    bench.add_parser(sub, parents)
    media.add_parser(sub, parents)
    database.add_parser(sub, parents)
    desktop.add_parser(sub, parents)
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    ours, psql_args = split_psql_args(list(argv))
    args = build_parser().parse_args(ours)
    args.psql_args = psql_args
    return args
