"""`inspection-viewer db ...`: migrations, health checks, the embedded server; a module each."""

from __future__ import annotations

import argparse

from viewer.cli.database import health, migrations, server
from viewer.cli.options import Subparsers, UsageParser


def add_parser(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", parents=parents, help="database tools")
    actions = db.add_subparsers(metavar="ACTION", required=True, parser_class=UsageParser)
    migrations.add_parsers(actions, parents)
    health.add_parsers(actions, parents)
    server.add_parsers(actions, parents)


__all__ = ["add_parser"]
