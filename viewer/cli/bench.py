"""`inspection-viewer bench`: its options, the run on the CLI's database, tables and report files.

The measuring itself is viewer/bench; this module only turns options into a BenchConfig.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from db.config import mask_url, parse_database_url
from db.errors import ConfigError
from viewer.bench.arguments import at_least, positive_number
from viewer.bench.gui.options import add_gui_command
from viewer.bench.media.options import add_media_command
from viewer.cli.context import Context, phase_progress
from viewer.cli.options import PROG, Subparsers

if TYPE_CHECKING:
    from viewer.bench.results import BenchConfig

# Distinct from 1 (database unreachable, a known error) and 2 (usage), so that CI can tell a
# slow build from a broken one.
EXIT_TARGET_FAILED = 3
DEFAULT_RTT_MS = (0.0, 5.0)
DEFAULT_ROUNDS = 20
QUICK_ROUNDS = 5
DEFAULT_CONCURRENCY = 50
DEFAULT_BURSTS = 4
QUICK_BURSTS = 2
DEFAULT_SHAPE = (50, 200, 5)  # inspections, items, media per item
RECORD_WIDTH = 160


def _rtt_list(text: str) -> tuple[float, ...]:
    values = []
    for part in text.split(","):
        try:
            value = float(part.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected milliseconds separated by commas (like 0,5,20), got {text!r}"
            ) from None
        if not 0 <= value <= 1000:
            raise argparse.ArgumentTypeError(f"RTT must be between 0 and 1000 ms, got {value:g}")
        values.append(value)
    return tuple(sorted(set(values)))


def add_parser(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    bench = sub.add_parser(
        "bench",
        parents=parents,
        help="measure media loading against N+1, ORM eager loading and the driver alone",
        description="Load an inspection's media every way worth comparing (N+1, the app's "
        "fallback, selectinload, joinedload, the app's batch load, bare psycopg) side by side, "
        "in a scratch database that is dropped afterwards, and check the performance targets. "
        f"Exit code {EXIT_TARGET_FAILED} when a target fails (unless --no-fail).",
    )
    bench.set_defaults(handler=run)
    commands = add_gui_command(bench, parents, handler=run_gui)
    add_media_command(commands, parents, handler=run_media)
    _dataset_options(bench.add_argument_group("dataset (default: the demo data)"))
    _measurement_options(bench.add_argument_group("measurement"))
    _target_options(bench.add_argument_group("targets"))
    output = bench.add_argument_group("output")
    output.add_argument("--json", type=Path, metavar="FILE", help="write the full results as JSON")
    output.add_argument(
        "--markdown",
        type=Path,
        metavar="FILE",
        help="write the tables as Markdown; a file with bench:begin/end markers (like "
        "docs/PERFORMANCE.md) gets only that section replaced",
    )


def _dataset_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--inspections",
        type=at_least(1),
        help=f"generated dataset: number of inspections (default {DEFAULT_SHAPE[0]})",
    )
    group.add_argument(
        "--items",
        type=at_least(1),
        help=f"generated dataset: checklist items per inspection (default {DEFAULT_SHAPE[1]})",
    )
    group.add_argument(
        "--media-per-item",
        type=at_least(1),
        help=f"generated dataset: photos per checklist item (default {DEFAULT_SHAPE[2]})",
    )


def _measurement_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--rtt-ms",
        type=_rtt_list,
        default=DEFAULT_RTT_MS,
        metavar="LIST",
        help="round-trip times to add with a delaying proxy on loopback, comma-separated "
        "(default 0,5; 0 is the direct connection)",
    )
    group.add_argument(
        "--rounds",
        type=at_least(2),
        help=f"rounds per RTT; every strategy runs in every round (default {DEFAULT_ROUNDS})",
    )
    group.add_argument(
        "--concurrency",
        type=at_least(0),
        default=DEFAULT_CONCURRENCY,
        help="loads started at once through the app's pool, in each burst "
        f"(default {DEFAULT_CONCURRENCY}; 0: skip)",
    )
    group.add_argument(
        "--bursts",
        type=at_least(1),
        help=f"bursts of concurrent loads per RTT (default {DEFAULT_BURSTS})",
    )
    group.add_argument(
        "--no-thumbnails", action="store_true", help="skip the thumbnail part (no Qt)"
    )
    group.add_argument(
        "--thumbnail-threads",
        type=at_least(1),
        help="thumbnail worker threads (default: one per CPU)",
    )
    group.add_argument(
        "--quick",
        action="store_true",
        help=f"fewer samples for a smoke test or CI: {QUICK_ROUNDS} rounds, "
        f"{QUICK_BURSTS} bursts, fewer repeats",
    )
    group.add_argument("--seed", type=int, default=1, help="order of the rounds (default 1)")


def _target_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--target-speedup",
        type=positive_number,
        default=10.0,
        metavar="X",
        help="batch at least X times faster than N+1 (default 10)",
    )
    group.add_argument(
        "--target-speedup-rtt-ms",
        type=float,
        default=5.0,
        metavar="MS",
        help="...at this RTT, which must be in --rtt-ms (default 5)",
    )
    group.add_argument(
        "--target-floor-ratio",
        type=positive_number,
        default=1.5,
        metavar="X",
        help="batch at most X times the floor at the lowest RTT (default 1.5)",
    )
    group.add_argument(
        "--target-concurrency-p95-ms",
        type=positive_number,
        default=200.0,
        metavar="MS",
        help="p95 of the concurrent loads at the lowest RTT (default 200)",
    )
    group.add_argument("--no-fail", action="store_true", help="report failed targets but exit 0")


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    # Imported here: `inspection-viewer --help` should not pay for Pillow and the runner.
    from viewer.bench.dataset import DatasetSpec
    from viewer.bench.results import FAST_REPEAT, QUICK_FAST_REPEAT, BenchConfig, Targets

    shape = (args.inspections, args.items, args.media_per_item)
    if any(v is not None for v in shape):
        spec = DatasetSpec(
            kind="generated",
            inspections=args.inspections or DEFAULT_SHAPE[0],
            items=args.items or DEFAULT_SHAPE[1],
            media_per_item=args.media_per_item or DEFAULT_SHAPE[2],
        )
    else:
        spec = DatasetSpec()
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
    bursts = args.bursts or (QUICK_BURSTS if args.quick else DEFAULT_BURSTS)
    return BenchConfig(
        rtt_ms=args.rtt_ms,
        rounds=rounds,
        fast_repeat=QUICK_FAST_REPEAT if args.quick else FAST_REPEAT,
        concurrency=args.concurrency,
        bursts=bursts,
        dataset=spec,
        thumbnails=not args.no_thumbnails,
        thumbnail_threads=args.thumbnail_threads,
        seed=args.seed,
        targets=Targets(
            speedup_vs_n_plus_1=args.target_speedup,
            speedup_rtt_ms=args.target_speedup_rtt_ms,
            floor_ratio=args.target_floor_ratio,
            concurrency_p95_ms=args.target_concurrency_p95_ms,
        ),
    )


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run, from the parsed options (passwords masked)."""
    parts = [PROG]
    if getattr(args, "database_url", None):
        parts += ["--database-url", mask_url(parse_database_url(args.database_url))]
    parts.append("bench")
    if args.inspections is not None or args.items is not None or args.media_per_item is not None:
        parts += ["--inspections", str(args.inspections or DEFAULT_SHAPE[0])]
        parts += ["--items", str(args.items or DEFAULT_SHAPE[1])]
        parts += ["--media-per-item", str(args.media_per_item or DEFAULT_SHAPE[2])]
    parts += ["--rtt-ms", ",".join(f"{v:g}" for v in args.rtt_ms)]
    if args.quick:
        parts.append("--quick")
    if args.rounds:
        parts += ["--rounds", str(args.rounds)]
    if args.concurrency != DEFAULT_CONCURRENCY:
        parts += ["--concurrency", str(args.concurrency)]
    if args.bursts:
        parts += ["--bursts", str(args.bursts)]
    if args.no_thumbnails:
        parts.append("--no-thumbnails")
    if args.thumbnail_threads:
        parts += ["--thumbnail-threads", str(args.thumbnail_threads)]
    if args.seed != 1:
        parts += ["--seed", str(args.seed)]
    return shlex.join(parts)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Run the benchmark on the CLI's database; the exit code says whether targets were met."""
    from rich.console import Console

    from viewer.bench.json_report import write_json
    from viewer.bench.report import print_report, write_markdown
    from viewer.bench.runner import run_benchmark

    out = Console(highlight=False, soft_wrap=True)
    if not out.is_terminal:  # a file or a pipe: no terminal width to fit, keep rows whole
        out = Console(highlight=False, soft_wrap=True, width=RECORD_WIDTH)
    for path in (args.json, args.markdown):
        if path is not None and not path.resolve().parent.is_dir():
            raise ConfigError(f"folder {path.resolve().parent} does not exist")
    config = config_from_args(args)
    with ctx.target() as target, phase_progress() as report:
        result = run_benchmark(
            target.url,
            config,
            command=command_line(args),
            embedded=target.embedded,
            progress=report,
        )
    print_report(result, out)
    if args.json is not None:
        write_json(result, args.json)
        out.print(f"JSON: {args.json}", markup=False)
    if args.markdown is not None:
        write_markdown(result, args.markdown)
        out.print(f"Markdown: {args.markdown}", markup=False)
    if not result.passed and not args.no_fail:
        return EXIT_TARGET_FAILED
    return 0


def run_gui(args: argparse.Namespace, ctx: Context) -> int:
    """`bench gui`: the window measured (viewer/bench/gui); exit codes as `bench`'s."""
    from viewer.bench.gui import run as run_gui_benchmark

    passed = run_gui_benchmark(args, ctx)
    return 0 if passed or args.no_fail else EXIT_TARGET_FAILED


def run_media(args: argparse.Namespace, ctx: Context) -> int:
    """`bench media`: the grid over S3 (viewer/bench/media); exit codes as `bench`'s."""
    from viewer.bench.media.run import run as run_media_benchmark

    passed = run_media_benchmark(args, ctx.paths.media_url, phase_progress)
    return 0 if passed or args.no_fail else EXIT_TARGET_FAILED
