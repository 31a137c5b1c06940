"""`inspection-viewer bench gui`: its options (argparse only, so the CLI's start stays fast)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from viewer.bench.arguments import at_least, positive_number

DEFAULT_REPEAT = 3
QUICK_REPEAT = 1
DEFAULT_ITEMS = 1000
QUICK_ITEMS = 100
DEFAULT_MEDIA_PER_ITEM = 20
DEFAULT_SCROLL_MS = 100
QUICK_SCROLL_VIEWPORTS = 6
DEFAULT_SELECTIONS = 20
DEFAULT_SELECTION_INTERVAL_MS = 50
DEFAULT_CACHE_MB = 128  # viewer.app.DEFAULT_CACHE_MB: the app's default memory cache
DEFAULT_TIMEOUT_S = 60.0
GROUPS = ("demo", "large", "selections")


def _groups(text: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [g for g in chosen if g not in GROUPS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"expected some of {','.join(GROUPS)}, got {text!r}")
    return chosen


def add_gui_command(
    bench: argparse.ArgumentParser,
    parents: list[argparse.ArgumentParser],
    handler: Callable[[argparse.Namespace, Any], int],
) -> Any:
    """`bench gui` under the `bench` parser; plain `bench` keeps its own options and handler.
    Returns the subparsers, for the other `bench` subcommands."""
    sub = bench.add_subparsers(dest="bench_command", metavar="{gui,media}", required=False)
    gui = sub.add_parser(
        "gui",
        parents=parents,
        help="measure the window: GUI-thread stalls, first thumbnails, memory",
        description="Open the real main window (offscreen) on a scratch database with the "
        "demo data and a generated large inspection, and measure what a user feels: the "
        "GUI thread's heartbeat, the time to the first and to all visible thumbnails, "
        "statements per load and peak memory, cold and warm, while the grid scrolls; "
        "then check the targets. Exit code 3 when a target fails (unless --no-fail).",
    )
    gui.set_defaults(handler=handler)
    _run_options(gui.add_argument_group("what to run"))
    _window_options(gui.add_argument_group("the window"))
    _measurement_options(gui.add_argument_group("measurement"))
    _target_options(gui.add_argument_group("targets"))
    output = gui.add_argument_group("output")
    output.add_argument("--json", type=Path, metavar="FILE", help="write every run as JSON")
    output.add_argument(
        "--markdown",
        type=Path,
        metavar="FILE",
        help="write the tables as Markdown; a file with bench-gui:begin/end markers gets "
        "only that section replaced",
    )
    output.add_argument("--no-fail", action="store_true", help="report failed targets, exit 0")
    return sub


def _run_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--only",
        type=_groups,
        default=GROUPS,
        metavar="LIST",
        help="scenario groups, comma-separated: demo (the 1,100-photo inspection, cold and "
        "warm), large (the generated one, cold and warm), selections (rapid selections "
        "ending on the large one); default all",
    )
    group.add_argument(
        "--repeat",
        type=at_least(1),
        help=f"runs of every scenario (default {DEFAULT_REPEAT}; --quick {QUICK_REPEAT})",
    )
    group.add_argument(
        "--items",
        type=at_least(1),
        help=f"checklist items of the generated inspection (default {DEFAULT_ITEMS}; "
        f"--quick {QUICK_ITEMS})",
    )
    group.add_argument(
        "--media-per-item",
        type=at_least(1),
        default=DEFAULT_MEDIA_PER_ITEM,
        help=f"photos per item of the generated inspection (default {DEFAULT_MEDIA_PER_ITEM})",
    )
    group.add_argument(
        "--scroll-ms",
        type=at_least(10),
        default=DEFAULT_SCROLL_MS,
        metavar="MS",
        help=f"scroll one viewport every MS milliseconds (default {DEFAULT_SCROLL_MS})",
    )
    group.add_argument(
        "--scroll-viewports",
        type=at_least(0),
        metavar="N",
        help="stop scrolling after N viewports (default: to the bottom; --quick "
        f"{QUICK_SCROLL_VIEWPORTS}; 0: no scrolling)",
    )
    group.add_argument(
        "--selections",
        type=at_least(2),
        default=DEFAULT_SELECTIONS,
        help=f"selections in the rapid-selection scenario (default {DEFAULT_SELECTIONS})",
    )
    group.add_argument(
        "--selection-interval-ms",
        type=at_least(1),
        default=DEFAULT_SELECTION_INTERVAL_MS,
        metavar="MS",
        help=f"between those selections (default {DEFAULT_SELECTION_INTERVAL_MS})",
    )


def _window_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--cache-mb",
        type=at_least(1),
        default=DEFAULT_CACHE_MB,
        help=f"thumbnail memory cache (default {DEFAULT_CACHE_MB}, the app's default)",
    )
    group.add_argument(
        "--workers", type=at_least(1), help="thumbnail worker threads (default: one per CPU)"
    )


def _measurement_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--stall-stacks",
        action="store_true",
        help="sample the GUI thread's Python stack during stalls, to see where they come "
        "from (a watchdog thread: perturbs the figures a little)",
    )
    group.add_argument(
        "--timeout-s",
        type=positive_number,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"give up waiting for thumbnails after S seconds (default {DEFAULT_TIMEOUT_S:g})",
    )
    group.add_argument(
        "--quick",
        action="store_true",
        help=f"a smoke test: {QUICK_REPEAT} run, {QUICK_ITEMS} x {DEFAULT_MEDIA_PER_ITEM} "
        f"generated photos, {QUICK_SCROLL_VIEWPORTS} viewports of scrolling",
    )


def _target_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--target-max-gap-ms",
        type=positive_number,
        default=50.0,
        metavar="MS",
        help="longest GUI-thread gap in every scenario (default 50)",
    )
    group.add_argument(
        "--target-p99-gap-ms",
        type=positive_number,
        default=20.0,
        metavar="MS",
        help="99th percentile GUI-thread gap in every scenario (default 20)",
    )
    group.add_argument(
        "--target-first-cold-ms",
        type=positive_number,
        default=150.0,
        metavar="MS",
        help="selection to first visible thumbnail painted, caches cold (default 150)",
    )
    group.add_argument(
        "--target-first-warm-ms",
        type=positive_number,
        default=30.0,
        metavar="MS",
        help="the same with warm thumbnail caches (default 30)",
    )
    group.add_argument(
        "--target-rss-mb",
        type=positive_number,
        default=400.0,
        metavar="MB",
        help="peak resident memory in the large inspection's scenarios (default 400)",
    )
