"""`sync`: push the review records of an offline bundle's journal to its database."""

from __future__ import annotations

import argparse
from pathlib import Path

from db.errors import ConfigError
from db.offline import BUNDLE_SUFFIX
from db.offline.journal import journal_path
from viewer.cli.context import Context
from viewer.cli.options import PROG, Subparsers
from viewer.console import err, out


def add_parser(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    sync = sub.add_parser(
        "sync",
        parents=parents,
        help="push the reviews recorded in an offline bundle to its database",
        description="Push the verdicts, flags and decisions recorded while the bundle was open "
        f"(its journal, FILE{BUNDLE_SUFFIX}.review) to the database it was exported from. Safe "
        "to run again: records already there are not duplicated. Conflicts with verdicts "
        "recorded on the server since the export are listed and both records are kept.",
    )
    sync.add_argument(
        "bundle",
        metavar=f"FILE{BUNDLE_SUFFIX}",
        help="the bundle whose review journal (FILE.ivbundle.review beside it) is pushed",
    )
    sync.add_argument(
        "--include-changed",
        action="store_true",
        help="also push records about inspections that changed on the server since the export",
    )
    sync.set_defaults(handler=run_sync)


def run_sync(args: argparse.Namespace, ctx: Context) -> int:
    from db.engine import make_engine
    from db.review.sync import sync_bundle

    bundle = Path(args.bundle).expanduser().resolve()
    if not bundle.is_file():
        raise ConfigError(f"{bundle} is not a file")
    if not journal_path(bundle).exists():
        out.print(f"Nothing to sync: no review was recorded in {bundle.name}.", markup=False)
        return 0
    with ctx.target() as target:
        engine = make_engine(target.url)
        try:
            summary = sync_bundle(
                engine, bundle, ctx.paths.cache_dir, include_changed=args.include_changed
            )
        finally:
            engine.dispose()
    first, *rest = summary.lines()
    out.print(f"{PROG} sync {bundle.name}: {first}", markup=False)
    for line in rest:
        (err if line.startswith("kept") else out).print(f"  {line}", markup=False)
    return 0
