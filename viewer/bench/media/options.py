"""`bench media`'s options (argparse only, so the CLI's start stays fast)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_PHOTOS = 1100
DEFAULT_RTT_MS = 20.0
DEFAULT_BANDWIDTH_MBIT = 100.0
DEFAULT_VISIBLE = 30  # thumbnails on one screen of the grid
DEFAULT_CAP = 16  # fetches in flight (db.storage.s3.DEFAULT_MAX_IN_FLIGHT)
DEFAULT_CACHE_MB = 2048


def add_media_command(
    sub: Any, parents: list[argparse.ArgumentParser], handler: Callable[..., int]
) -> None:
    media = sub.add_parser(
        "media",
        parents=parents,
        help="measure the photo grid over S3: originals, the team thumbnail tier, a warm cache",
        description="Put an inspection's photos in an S3 bucket (a private SeaweedFS in a "
        "temporary folder unless --media-url is given), reach it through a delay proxy with a "
        "round-trip time and a bandwidth limit, and time the thumbnails of the whole grid: "
        "from the originals, while the first client builds the team thumbnail tier, from the "
        "tier, and from a warm local cache; with the bytes transferred. Exit code 3 when a "
        "target fails (unless --no-fail).",
    )
    media.set_defaults(handler=handler)
    group = media.add_argument_group("what to run")
    group.add_argument(
        "--photos",
        type=int,
        default=DEFAULT_PHOTOS,
        metavar="N",
        help=f"photos in the inspection (default {DEFAULT_PHOTOS}, each distinct)",
    )
    group.add_argument(
        "--rtt-ms",
        type=float,
        default=DEFAULT_RTT_MS,
        metavar="MS",
        help=f"round-trip time added by the proxy (default {DEFAULT_RTT_MS:g})",
    )
    group.add_argument(
        "--bandwidth-mbit",
        type=float,
        default=DEFAULT_BANDWIDTH_MBIT,
        metavar="MBIT",
        help="link bandwidth each way (default 100)",
    )
    group.add_argument(
        "--visible",
        type=int,
        default=DEFAULT_VISIBLE,
        metavar="N",
        help=f"thumbnails on the first screen (default {DEFAULT_VISIBLE})",
    )
    group.add_argument(
        "--fetch-cap",
        type=int,
        default=DEFAULT_CAP,
        metavar="N",
        help=f"fetches in flight at most (default {DEFAULT_CAP})",
    )
    group.add_argument(
        "--cache-mb",
        type=int,
        default=DEFAULT_CACHE_MB,
        metavar="MB",
        help=f"local download cache (default {DEFAULT_CACHE_MB})",
    )
    group.add_argument(
        "--skip-originals",
        action="store_true",
        help="leave out the originals-only run (the slow one)",
    )
    targets = media.add_argument_group("targets (with the tier)")
    targets.add_argument(
        "--target-first-ms",
        type=float,
        default=300.0,
        metavar="MS",
        help="the tier run's first visible thumbnail within this (default 300)",
    )
    targets.add_argument(
        "--target-grid-s",
        type=float,
        default=5.0,
        metavar="S",
        help="the tier run's whole grid within this (default 5)",
    )
    targets.add_argument(
        "--target-mb",
        type=float,
        default=40.0,
        metavar="MB",
        help="at most this many MB transferred in the tier run (default 40)",
    )
    output = media.add_argument_group("output")
    output.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON")
    output.add_argument("--no-fail", action="store_true", help="report failed targets, exit 0")
