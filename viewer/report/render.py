"""Drawing reports into PDF files with Qt's own PDF engine (QPdfWriter + QPainter).

Runs in any thread (the CLI's, or the window's worker: QPdfWriter, QPainter and QImage need no
GUI thread). The PDF is drawn into memory and written with the one atomic write, so a
cancelled, failed or killed report leaves no file, not even half of one.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import shiboken6
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QPainter, QPdfWriter

from db.errors import KnownError
from db.files import write_atomic
from db.progress import ProgressCallback, no_progress
from db.storage import MediaStore
from viewer import __version__
from viewer.report.blocks import PhotoSource
from viewer.report.content import PhotoChoice, ReportInspection
from viewer.report.flow import LaidOutPage, inspection_blocks, paginate, photos_in_order
from viewer.report.page import DEVICE_DPI, PageGeometry, Typesetter, draw_page_frame
from viewer.report.photos import PhotoPipeline, PhotoProblem

log = logging.getLogger(__name__)

PHASE_DRAW = "Drawing the report"


class ReportCancelled(KnownError):
    def __init__(self) -> None:
        super().__init__("The report was cancelled; no file was written.")


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int
    photos: int  # drawn as images
    unavailable: int  # drawn as placeholders


@dataclass(frozen=True)
class ReportSummary:
    """One written report file."""

    path: Path
    references: tuple[str, ...]
    pages: int
    photos: int
    unavailable: int
    bytes: int
    seconds: float


@contextlib.contextmanager
def pdf_writer(title: str) -> Iterator[tuple[QPdfWriter, QByteArray]]:
    """A QPdfWriter drawing into memory. The writer, its buffer and the bytes are deleted in
    that order whatever Python references are left (a writer outliving its device crashes)."""
    array = QByteArray()
    buffer = QBuffer(array)
    try:
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        writer = QPdfWriter(buffer)
        try:
            writer.setPageLayout(
                QPageLayout(
                    QPageSize(QPageSize.PageSizeId.A4),
                    QPageLayout.Orientation.Portrait,
                    QMarginsF(0, 0, 0, 0),
                )
            )
            writer.setResolution(DEVICE_DPI)
            writer.setTitle(title)
            writer.setCreator(f"Inspection Viewer {__version__}")
            yield writer, array
        finally:
            shiboken6.delete(writer)
        buffer.close()
    finally:
        shiboken6.delete(buffer)
        shiboken6.delete(array)


def render_pdf(
    inspections: Sequence[ReportInspection],
    store: MediaStore,
    choice: PhotoChoice,
    *,
    progress: ProgressCallback = no_progress,
    cancel: threading.Event | None = None,
    workers: int = 2,
) -> RenderedPdf:
    """The report of `inspections` (one after another, each from a new page) as PDF bytes."""
    cancel = cancel or threading.Event()
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    refs = ", ".join(i.reference for i in inspections)
    with pdf_writer(f"Inspection report {refs}") as (writer, array):
        ts = Typesetter(writer)
        geometry = PageGeometry()
        pages: list[LaidOutPage] = []
        for inspection in inspections:
            blocks = inspection_blocks(inspection, choice, generated)
            pages += paginate(inspection, blocks, ts, geometry)
        photos = photos_in_order(pages)
        counter = _Counter(len(photos) + len(pages), progress, cancel)
        painter = QPainter(writer)
        try:
            with PhotoPipeline(store, photos, geometry.photo_box_px, workers=workers) as pipe:
                source = counter.photos(iter(pipe))
                for number, page in enumerate(pages, start=1):
                    if number > 1:
                        writer.newPage()
                    _paint_page(painter, ts, geometry, page, (number, len(pages)), source)
                    counter.step()
        finally:
            painter.end()
        data = bytes(array.data())
    return RenderedPdf(data, len(pages), counter.images, counter.problems)


def _paint_page(
    painter: QPainter,
    ts: Typesetter,
    geometry: PageGeometry,
    page: LaidOutPage,
    number: tuple[int, int],
    source: PhotoSource,
) -> None:
    summary = page.inspection.summary
    header = (f"{summary.reference_code} \u2014 {summary.site_name}", "Inspection report")
    footer = (summary.address, f"Page {number[0]} of {number[1]}")
    draw_page_frame(painter, ts, geometry, header, footer)
    for block, top in page.blocks:
        block.paint(painter, ts, geometry, top, source)


class _Counter:
    """Progress in pages and photos, and the cancel check between them."""

    def __init__(self, total: int, progress: ProgressCallback, cancel: threading.Event) -> None:
        self.total = max(1, total)
        self.done = 0
        self.images = 0
        self.problems = 0
        self._progress = progress
        self._cancel = cancel
        progress(PHASE_DRAW, 0, self.total)

    def step(self) -> None:
        if self._cancel.is_set():
            raise ReportCancelled
        self.done += 1
        self._progress(PHASE_DRAW, self.done, self.total)

    def photos(self, source: PhotoSource) -> PhotoSource:
        for media, photo in source:
            if isinstance(photo, PhotoProblem):
                self.problems += 1
            else:
                self.images += 1
            self.step()
            yield media, photo


def write_report(
    path: Path,
    inspections: Sequence[ReportInspection],
    store: MediaStore,
    choice: PhotoChoice,
    *,
    progress: ProgressCallback = no_progress,
    cancel: threading.Event | None = None,
    workers: int = 2,
) -> ReportSummary:
    """Render and write one report file, atomically (readable by anyone, as a document is)."""
    started = time.perf_counter()
    pdf = render_pdf(inspections, store, choice, progress=progress, cancel=cancel, workers=workers)
    if cancel is not None and cancel.is_set():
        raise ReportCancelled
    write_atomic(path, pdf.data, mode=0o644)
    log.info(
        "report %s: %d pages, %d photos, %d unavailable, %d bytes in %.1f s",
        path,
        pdf.pages,
        pdf.photos,
        pdf.unavailable,
        len(pdf.data),
        time.perf_counter() - started,
    )
    return ReportSummary(
        path,
        tuple(i.reference for i in inspections),
        pdf.pages,
        pdf.photos,
        pdf.unavailable,
        len(pdf.data),
        time.perf_counter() - started,
    )
