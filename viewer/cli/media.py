"""`media push` (copy the photos to a bucket) and `media status` (what a store holds)."""

from __future__ import annotations

import argparse
import contextlib

from rich.table import Table

from db.config import ENV_MEDIA_URL
from db.errors import ConfigError
from db.storage import MediaStore, open_media, open_store
from db.transfer import DEFAULT_PUSH_WORKERS, database_photos, push, store_status
from viewer.cli.context import Context, phase_progress
from viewer.cli.options import PROG, Subparsers, positive_int
from viewer.console import err, out

# Failed photos listed one per line; past this, only their number.
SHOWN_FAILURES = 20


def add_parser(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    media = sub.add_parser("media", parents=parents, help="photos in a bucket: push, status")
    commands = media.add_subparsers(metavar="ACTION", required=True)
    push_ = commands.add_parser(
        "push",
        parents=parents,
        help="copy the photos the database names to a bucket (resumable, SHA-256 checked)",
    )
    push_.add_argument("--to", required=True, metavar="URL", help="s3://bucket/prefix")
    push_.add_argument(
        "--workers",
        type=positive_int,
        default=DEFAULT_PUSH_WORKERS,
        metavar="N",
        help=f"photos copied at once (default {DEFAULT_PUSH_WORKERS})",
    )
    push_.set_defaults(handler=run_push)
    status = commands.add_parser(
        "status", parents=parents, help="what a store holds, and how much of the thumbnail tier"
    )
    status.add_argument(
        "--url",
        metavar="URL",
        help=f"the store to look at (default: --media-url / {ENV_MEDIA_URL})",
    )
    status.set_defaults(handler=run_status)


def run_push(args: argparse.Namespace, ctx: Context) -> int:
    from db.engine import make_engine

    if not args.to.lower().startswith(("s3://", "s3a://", "file://")):
        raise ConfigError("--to: give s3://bucket/prefix (or a file:// URL)")
    if args.to.rstrip("/") == ctx.paths.media_url.rstrip("/"):
        raise ConfigError("--to names the store the photos are already in")
    with ctx.target() as target:
        engine = make_engine(target.url)
        try:
            photos = database_photos(engine)
        finally:
            engine.dispose()
    with (
        contextlib.closing(open_media(ctx.paths)) as source,
        contextlib.closing(open_store(args.to)) as destination,
    ):
        err.print(
            f"Copying {len(photos):,} photo files from {source.display} to {destination.display}"
        )
        with phase_progress() as report:
            summary = push(photos, source, destination, workers=args.workers, progress=report)
    out.print(
        f"{summary.copied:,} copied ({summary.bytes_copied / 1e6:.1f} MB), {summary.skipped:,} "
        f"already there, {len(summary.failed):,} failed, in {summary.seconds:.1f} s"
    )
    for key, reason in summary.failed[:SHOWN_FAILURES]:
        err.print(f"{PROG}: {key}: {reason}", markup=False)
    if len(summary.failed) > SHOWN_FAILURES:
        err.print(f"{PROG}: ... and {len(summary.failed) - SHOWN_FAILURES:,} more", markup=False)
    return 1 if summary.failed else 0


def run_status(args: argparse.Namespace, ctx: Context) -> int:
    from db.engine import make_engine

    with ctx.target() as target:
        engine = make_engine(target.url)
        try:
            photos = database_photos(engine)
        finally:
            engine.dispose()
    opened: MediaStore = open_store(args.url) if args.url else open_media(ctx.paths)
    with contextlib.closing(opened) as store:
        status = store_status(store, photos)
        table = Table(show_header=False, box=None)
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        table.add_row("store", store.display)
        table.add_row(
            "objects", f"{status.objects:,} ({status.bytes / 1e6:.1f} MB), thumbnails apart"
        )
        table.add_row(
            "photo files",
            f"{status.photo_files_present or 0:,} of the {status.photo_files or 0:,} "
            "the database names",
        )
        distinct = status.distinct_photos or 0
        for px in sorted(status.tier):
            count = status.tier.get(px, 0)
            share = 100 * count / distinct if distinct else 0.0
            table.add_row(
                f"thumbnail tier {px} px", f"{count:,} of {distinct:,} photos ({share:.0f}%)"
            )
        if not status.tier:
            table.add_row("thumbnail tier", "none yet (the first client to browse builds it)")
        out.print(table)
    return 0
