"""`inspection-viewer` with no command: the main window on the database. Qt loads only here."""

from __future__ import annotations

import argparse
from pathlib import Path

from db.errors import ConfigError
from viewer.cli.context import Context
from viewer.cli.options import positive_int


def add_options(parser: argparse.ArgumentParser) -> None:
    """The window's options, on the top-level parser; the window is what runs without a command."""
    add_window_options(parser, suppress=False)
    parser.set_defaults(handler=run)


def add_window_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    # After a subcommand (`open FILE --screenshot P`), SUPPRESS keeps an absent option from
    # overwriting one given before it.
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--screenshot",
        default=default,
        metavar="PATH",
        help="render the main window offscreen once the first inspection is shown with its "
        "visible thumbnails, save it as PNG and exit",
    )
    parser.add_argument(
        "--window-size",
        type=window_size,
        default=default,
        metavar="WxH",
        help="open the window at this size, e.g. 1024x700 (default: as it was left; "
        "1440x860 the first time and for --screenshot)",
    )
    parser.add_argument(
        "--thumbnail-cache-mb",
        type=positive_int,
        default=default,
        metavar="MB",
        help="memory for decoded thumbnails (default 128; remembered in settings)",
    )
    parser.add_argument(
        "--thumbnail-workers",
        type=positive_int,
        default=default,
        metavar="N",
        help="threads decoding thumbnails (default: one per CPU core)",
    )


MIN_WINDOW = (640, 480)
MAX_WINDOW = (7680, 4320)


def window_size(text: str) -> tuple[int, int]:
    """'1024x700' -> (1024, 700), within what a screen can hold."""
    width, sep, height = text.strip().lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, e.g. 1024x700, got {text[:40]!r}")
    size = (int(width), int(height))
    if not all(lo <= v <= hi for v, lo, hi in zip(size, MIN_WINDOW, MAX_WINDOW, strict=True)):
        raise argparse.ArgumentTypeError(
            f"window size must be between {MIN_WINDOW[0]}x{MIN_WINDOW[1]} and "
            f"{MAX_WINDOW[0]}x{MAX_WINDOW[1]}, got {text[:40]!r}"
        )
    return size


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
            window_size=args.window_size,
            thumbnail_cache_mb=args.thumbnail_cache_mb,
            thumbnail_workers=args.thumbnail_workers,
        ),
    )
