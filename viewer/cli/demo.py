"""`inspection-viewer demo`: fill the database with generated inspections and their photos."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses

from db.errors import ConfigError
from db.storage import open_media
from viewer.cli.context import Context, phase_progress
from viewer.cli.database.migrations import upgrade_quietly
from viewer.cli.options import Subparsers, positive_int
from viewer.console import out
from viewer.words import count


def add_parser(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", parents=parents, help="fill the database with demo data")
    demo.add_argument(
        "--inspections",
        type=positive_int,
        default=None,
        help="number of inspections, the large one included (default 48)",
    )
    demo.add_argument("--seed", type=int, default=None, help="random seed (default fixed)")
    demo.add_argument(
        "--reset",
        action="store_true",
        help="delete all inspections first (asks nothing: the data is gone)",
    )
    demo.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from db.demo import DemoSpec, clear_data, database_is_empty, generate_demo
    from db.engine import make_engine

    spec = DemoSpec()
    if args.inspections is not None:
        spec = dataclasses.replace(spec, inspections=args.inspections)
    if args.seed is not None:
        spec = dataclasses.replace(spec, seed=args.seed)
    store = open_media(ctx.paths)
    with contextlib.closing(store), ctx.target() as target:
        engine = make_engine(target.url)
        try:
            upgrade_quietly(engine, ctx, target)
            if not database_is_empty(engine):
                if not args.reset:
                    raise ConfigError(
                        "the database already holds inspections; "
                        "use `demo --reset` to replace them with demo data"
                    )
                clear_data(engine)
            with phase_progress() as report:
                summary = generate_demo(engine, store, spec, progress=report)
        finally:
            engine.dispose()
    out.print(
        f"Demo data: {count(summary.inspections, 'inspection')}, "
        f"{summary.checklist_items} checklist items, {summary.media} media "
        f"({summary.image_files} image files, "
        f"{summary.bytes_on_disk / 1e6:.0f} MB) in {summary.seconds:.1f} s; "
        f"media under {store.display}"
    )
    return 0
