"""`export` and `open`: take inspections offline into a bundle, review one with no server."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from db.config import os_error_text
from db.errors import ConfigError, KnownError
from db.offline import BUNDLE_SUFFIX, BundleArchive
from db.records import InspectionStatus
from viewer.cli import gui
from viewer.cli.context import Context, phase_progress
from viewer.cli.database.health import require_newest_schema
from viewer.cli.gui import screenshot_path
from viewer.cli.options import PROG, Subparsers
from viewer.console import err, out
from viewer.words import count


def add_parsers(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:

    export = sub.add_parser(
        "export",
        parents=parents,
        help="take inspections offline: write them, their photos and thumbnails to one file",
        description="Write the chosen inspections, with their checklists, photos and "
        f"thumbnails, to one {BUNDLE_SUFFIX} file that `{PROG} open` reviews with no server.",
    )
    export.add_argument(
        "--inspection",
        dest="references",
        metavar="REF",
        nargs="+",
        default=[],
        help="reference codes of the inspections, for example INS-2026-0412",
    )
    export.add_argument(
        "--status",
        choices=[s.value for s in InspectionStatus],
        default=None,
        help="only inspections with this status (alone: all inspections with this status)",
    )
    export.add_argument(
        "--out",
        metavar=f"FILE{BUNDLE_SUFFIX}",
        required=True,
        help="the bundle to write (replaced only once the export has completed)",
    )
    export.add_argument(
        "--no-thumbnails",
        action="store_true",
        help="do not pre-generate thumbnails (smaller bundle, no Qt needed)",
    )
    export.set_defaults(handler=run_export)

    open_ = sub.add_parser(
        "open",
        parents=parents,
        help="open the window on an offline bundle (read-only, no database server)",
        description=f"Open the main window on a {BUNDLE_SUFFIX} file written by `{PROG} export`: "
        "its inspections and photos, read-only, with no database server; reviews go into a "
        "journal beside it. Without a file, the window opens on the database, as with no "
        "command at all. --screenshot saves the first view as PNG and exits.",
    )
    open_.add_argument(
        "bundle",
        metavar=f"FILE{BUNDLE_SUFFIX}",
        nargs="?",
        help="the bundle to open (none: the window on the database)",
    )
    gui.add_window_options(open_, suppress=True)
    open_.set_defaults(handler=run_open)


def run_export(args: argparse.Namespace, ctx: Context) -> int:
    from db.engine import make_engine
    from db.offline import export_bundle
    from db.storage import open_media

    target_file = Path(args.out).expanduser().resolve()
    if target_file.suffix.lower() != BUNDLE_SUFFIX:
        raise ConfigError(f"--out: a bundle file name ends in {BUNDLE_SUFFIX}")
    if not target_file.parent.is_dir():
        raise ConfigError(f"--out: folder {target_file.parent} does not exist")
    if not args.references and args.status is None:
        raise ConfigError("name the inspections with --inspection REF, or give --status")
    thumbnailer = None
    if not args.no_thumbnails:
        from viewer.thumbnails.export import png_thumbnail

        thumbnailer = png_thumbnail

    with ctx.target() as target:
        engine = make_engine(target.url)
        try:
            with engine.connect() as conn:
                require_newest_schema(conn)
            with phase_progress() as report, contextlib.closing(open_media(ctx.paths)) as store:
                summary = export_bundle(
                    engine,
                    store,
                    args.references,
                    args.status,
                    out=target_file,
                    progress=report,
                    thumbnailer=thumbnailer,
                )
        except (ConnectionError, TimeoutError):
            raise
        except OSError as exc:  # writing the bundle: a full disk is the likely one
            raise KnownError(
                f"export failed, no bundle was written: {os_error_text(exc, target_file)}"
            ) from exc
        finally:
            engine.dispose()
    out.print(
        f"Bundle {summary.path}: {count(summary.inspections, 'inspection')}, "
        f"{count(summary.checklist_items, 'checklist item')}, "
        f"{count(summary.media, 'photo')} ({count(summary.media_files, 'file')}, "
        f"{summary.media_bytes / 1e6:.1f} MB; {summary.thumbnails:,} thumbnails), "
        f"{summary.bundle_bytes / 1e6:.1f} MB in {summary.seconds:.1f} s",
        markup=False,
    )
    if summary.unavailable:
        err.print(
            f"warning: {len(summary.unavailable)} photo(s) could not be taken offline and are "
            "listed in the bundle as unavailable:",
            markup=False,
        )
        for gone in summary.unavailable:
            err.print(f"  media {gone.media_id} {gone.storage_key}: {gone.detail}", markup=False)
    return 0


def run_open(args: argparse.Namespace, ctx: Context) -> int:
    if args.bundle is None:  # a launcher's `open %f` with no file: the window on the database
        return gui.run(args, ctx)
    bundle = Path(args.bundle).expanduser().resolve()
    screenshot = screenshot_path(args)
    # Check the file before any window opens: a bad bundle is one line and exit code 1.
    with BundleArchive(bundle, ctx.paths.cache_dir):
        pass
    from viewer.app import run_offline_gui

    return run_offline_gui(bundle, ctx.paths, screenshot=screenshot)
