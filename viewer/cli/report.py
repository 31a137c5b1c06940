"""`report`: inspections as PDF reports a reviewer can send (from the database or a bundle)."""

from __future__ import annotations

import argparse
import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from db.engine import make_async_engine, make_engine
from db.metrics import QueryMetrics
from db.offline import BUNDLE_SUFFIX
from viewer.cli.context import Context, phase_progress
from viewer.cli.options import PROG, Subparsers
from viewer.console import out

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from db.storage import MediaStore
    from viewer.report import PhotoChoice, ReportInspection, ReportSummary, ReportTarget

PHOTO_CHOICES = ("all", "failed", "none")


def add_parser(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    report = sub.add_parser(
        "report",
        parents=parents,
        help="write PDF reports of inspections (failed items first, with their photos)",
        description="Write a PDF report of each inspection: a cover with the summary, the "
        "failed and needs-rework items with their notes, review and photos, then every other "
        "item in checklist order. The file appears only once it is complete.",
    )
    report.add_argument(
        "references", metavar="REF", nargs="+", help="inspection references, e.g. INS-2026-0412"
    )
    where = report.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", metavar="FILE.pdf", help="one PDF with all the inspections")
    where.add_argument(
        "--out-dir", metavar="DIR", help="one PDF per inspection, named after its reference"
    )
    report.add_argument(
        "--photos",
        choices=PHOTO_CHOICES,
        default="failed",
        help="whose photos to include: all items, the failed and needs-rework items "
        "(default), or none",
    )
    report.add_argument(
        "--bundle",
        metavar=f"FILE{BUNDLE_SUFFIX}",
        help="read the inspections from an offline bundle instead of the database",
    )
    report.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace, ctx: Context) -> int:
    from viewer.report import PhotoChoice, check_out_dir, check_out_file
    from viewer.report.gather import clean_references

    # Everything the user typed is checked before a server starts or a bundle opens.
    references = clean_references(args.references)
    out_file = check_out_file(args.out) if args.out else None
    out_dir = check_out_dir(args.out_dir) if args.out_dir else None
    choice = PhotoChoice(args.photos)
    app = _gui_application()  # noqa: F841 - alive until the reports are drawn
    if args.bundle:
        bundle = Path(args.bundle)
        written = asyncio.run(_from_bundle(bundle, ctx, references, out_file, out_dir, choice))
    else:
        written = _from_database(ctx, references, out_file, out_dir, choice)
    for summary in written:
        out.print(_describe(summary), markup=False)
    return 0


def _from_database(
    ctx: Context,
    references: Sequence[str],
    out: Path | None,
    out_dir: Path | None,
    choice: PhotoChoice,
) -> list[ReportSummary]:
    from db.storage import open_media
    from viewer.cli.database.health import require_newest_schema

    with ctx.target() as target:
        engine = make_engine(target.url)
        try:
            with engine.connect() as conn:
                require_newest_schema(conn)
        finally:
            engine.dispose()
        store = open_media(ctx.paths)
        try:
            return asyncio.run(
                _load_and_write(
                    make_async_engine(target.url), store, references, out, out_dir, choice
                )
            )
        finally:
            store.close()


async def _from_bundle(
    path: Path,
    ctx: Context,
    references: Sequence[str],
    out: Path | None,
    out_dir: Path | None,
    choice: PhotoChoice,
) -> list[ReportSummary]:
    from db.offline import open_bundle

    bundle = await asyncio.to_thread(open_bundle, path.expanduser().resolve(), ctx.paths.cache_dir)
    try:
        return await _load_and_write(bundle.engine, bundle.store, references, out, out_dir, choice)
    finally:
        await bundle.close()


async def _load_and_write(
    engine: AsyncEngine,
    store: MediaStore,
    references: Sequence[str],
    out: Path | None,
    out_dir: Path | None,
    choice: PhotoChoice,
) -> list[ReportSummary]:
    """The window's loader on `engine`, then the reports drawn in a worker thread."""
    from db.loader import MediaBatchLoader
    from viewer.report import load_report_inspections, plan_targets, report_job
    from viewer.report.review import database_review

    loader = MediaBatchLoader(engine, QueryMetrics())
    try:
        inspections: list[ReportInspection] = await load_report_inspections(
            loader, references, database_review
        )
    finally:
        await loader.aclose()
        await engine.dispose()
    targets: list[ReportTarget] = plan_targets(inspections, out=out, out_dir=out_dir)
    job = report_job(targets, store, choice)
    with phase_progress() as progress:
        return await asyncio.to_thread(job, progress, threading.Event())


def _gui_application() -> object:
    """Fonts need a QGuiApplication; the command line's draws offscreen, needing no display."""
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.instance() or QGuiApplication([PROG, "-platform", "offscreen"])


def _describe(summary: ReportSummary) -> str:
    photos = f"{summary.photos:,} photo{'s' if summary.photos != 1 else ''}"
    if summary.unavailable:
        photos += f" ({summary.unavailable:,} unavailable, shown as placeholders)"
    return (
        f"Report {summary.path}: {', '.join(summary.references)}, {summary.pages:,} page"
        f"{'s' if summary.pages != 1 else ''}, {photos}, {summary.bytes / 1e6:.1f} MB "
        f"in {summary.seconds:.1f} s"
    )
