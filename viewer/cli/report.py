"""`report`: inspections as PDF reports a reviewer can send (from the database or a bundle)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from db.offline import BUNDLE_SUFFIX
from viewer.cli.context import Context, phase_progress
from viewer.cli.options import PROG, Subparsers
from viewer.console import out

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from db.review.store import ReviewStore
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


@dataclass(frozen=True)
class _Request:
    """What the command line asked for, checked."""

    references: list[str]
    out_file: Path | None
    out_dir: Path | None
    choice: PhotoChoice


def run_report(args: argparse.Namespace, ctx: Context) -> int:
    from viewer.report import PhotoChoice, check_out_dir, check_out_file
    from viewer.report.gather import clean_references

    # Everything the user typed is checked before a server starts or a bundle opens.
    request = _Request(
        clean_references(args.references),
        check_out_file(args.out) if args.out else None,
        check_out_dir(args.out_dir) if args.out_dir else None,
        PhotoChoice(args.photos),
    )
    app = _gui_application()  # noqa: F841 - alive until the reports are drawn
    if args.bundle:
        written = asyncio.run(_from_bundle(Path(args.bundle), ctx, request))
    else:
        written = _from_database(ctx, request)
    for summary in written:
        out.print(_describe(summary), markup=False)
    return 0


def _from_database(ctx: Context, request: _Request) -> list[ReportSummary]:
    from db.engine import make_engine
    from db.review.store import DatabaseReviews
    from db.storage import open_media
    from viewer.cli.database.health import require_newest_schema

    with ctx.target() as target:
        engine = make_engine(target.url)
        try:
            with engine.connect() as conn:
                require_newest_schema(conn)
        finally:
            engine.dispose()

        async def run(store: MediaStore) -> list[ReportSummary]:
            from db.engine import make_async_engine

            engine = make_async_engine(target.url)
            try:
                return await _load_and_write(engine, store, DatabaseReviews(engine), request)
            finally:
                await engine.dispose()

        with contextlib.closing(open_media(ctx.paths)) as store:
            return asyncio.run(run(store))


async def _from_bundle(path: Path, ctx: Context, request: _Request) -> list[ReportSummary]:
    """A bundle's inspections and photos, and the reviews in its journal beside it."""
    from db.offline import open_bundle
    from db.offline.journal import BundleIdentity, ReviewJournal, journal_path
    from db.review.store import JournalReviews

    path = path.expanduser().resolve()
    bundle = await asyncio.to_thread(open_bundle, path, ctx.paths.cache_dir)
    try:
        journal = ReviewJournal(journal_path(path), BundleIdentity.of(bundle.manifest))
        reviews = JournalReviews(journal)
        return await _load_and_write(bundle.engine, bundle.store, reviews, request)
    finally:
        await bundle.close()


async def _load_and_write(
    engine: AsyncEngine, store: MediaStore, reviews: ReviewStore, request: _Request
) -> list[ReportSummary]:
    """The window's loader on `engine`, then the reports drawn in a worker thread."""
    from db.loader import MediaBatchLoader
    from db.metrics import QueryMetrics
    from viewer.report import load_report_inspections, plan_targets, report_job
    from viewer.report.review import review_from

    metrics = QueryMetrics()
    loader = MediaBatchLoader(engine, metrics)
    try:
        inspections: list[ReportInspection] = await load_report_inspections(
            loader, request.references, review_from(reviews, metrics)
        )
    finally:
        await loader.aclose()
    targets: list[ReportTarget] = plan_targets(
        inspections, out=request.out_file, out_dir=request.out_dir
    )
    job = report_job(targets, store, request.choice)
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
