"""`inspection-viewer` with no command: the main window on the database. Qt loads only here."""

from __future__ import annotations

import argparse
from pathlib import Path

from db.errors import ConfigError
from viewer.cli.context import Context
from viewer.cli.options import positive_int


def add_options(parser: argparse.ArgumentParser) -> None:
    """The window's options, on the top-level parser; the window is what runs without a command."""
    parser.add_argument(
        "--screenshot",
        metavar="PATH",
        help="render the main window offscreen once the first inspection is shown with its "
        "visible thumbnails, save it as PNG and exit",
    )
    parser.add_argument(
        "--thumbnail-cache-mb",
        type=positive_int,
        metavar="MB",
        help="memory for decoded thumbnails (default 128; remembered in settings)",
    )
    parser.add_argument(
        "--thumbnail-workers",
        type=positive_int,
        metavar="N",
        help="threads decoding thumbnails (default: one per CPU core)",
    )
    parser.set_defaults(handler=run)


def screenshot_path(args: argparse.Namespace) -> Path | None:
    """--screenshot as an absolute path whose folder exists (the offline window takes it too)."""
    raw = getattr(args, "screenshot", None)
    screenshot = Path(raw).resolve() if raw else None
    if screenshot is not None and not screenshot.parent.is_dir():
        raise ConfigError(f"--screenshot: folder {screenshot.parent} does not exist")
    return screenshot


def run(args: argparse.Namespace, ctx: Context) -> int:
    screenshot = screenshot_path(args)
    from viewer.app import GuiOptions, run_gui

    return run_gui(
        ctx.paths,
        ctx.database,
        GuiOptions(
            screenshot=screenshot,
            thumbnail_cache_mb=args.thumbnail_cache_mb,
            thumbnail_workers=args.thumbnail_workers,
        ),
    )
