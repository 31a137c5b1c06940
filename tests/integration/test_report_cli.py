"""`inspection-viewer report` on the real demo: the PDF read back with poppler-utils (pages, the
reference on each, failed items first, the embedded images), from the database and a bundle."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage
from sqlalchemy import text

from db.config import libpq_url
from db.demo import BAD_MEDIA_INSPECTION_REFERENCE, BAD_MEDIA_KEYS
from db.metrics import QueryMetrics
from db.offline import BundleArchive, export_bundle
from db.offline.journal import BundleIdentity, ReviewJournal, journal_path
from db.review import ReviewKind, ReviewRecord
from db.review.store import JournalReviews
from db.storage import open_store
from tests.pdf_tools import (
    embedded_images,
    page_count,
    pages_text,
    rasterise,
    require_poppler,
)
from viewer.cli import main
from viewer.report.page import PageGeometry

REF = BAD_MEDIA_INSPECTION_REFERENCE  # 94 photos, 4 of them deliberately broken


def _args(demo_db: Any, data_dir: Path) -> list[str]:
    return [
        "--database-url",
        libpq_url(demo_db.engine.url),
        "--data-dir",
        str(data_dir),
        "--media-root",
        str(demo_db.media_dir),
    ]


def _photo_count(demo_db: Any, reference: str, failed_only: bool = False) -> int:
    with demo_db.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM media m JOIN inspections i ON i.id = m.inspection_id"
                    " JOIN checklist_items c ON c.id = m.checklist_item_id"
                    " WHERE i.reference_code = :r AND m.deleted_at IS NULL"
                    " AND (NOT :failed OR c.result = 'fail')"
                ),
                {"r": reference, "failed": failed_only},
            ).scalar_one()
        )


@dataclass(frozen=True)
class Rendered:
    pdf: Path
    pages: list[str]


@pytest.fixture(scope="module")
def report(demo_db, qapp, tmp_path_factory) -> Iterator[Rendered]:  # type: ignore[no-untyped-def]
    """The bad-media inspection's report with every photo, written once for this module."""
    require_poppler()
    folder = tmp_path_factory.mktemp("report")
    pdf = folder / "out" / "report.pdf"
    pdf.parent.mkdir()
    code = main([*_args(demo_db, folder), "report", REF, "--photos", "all", "--out", str(pdf)])
    assert code == 0
    yield Rendered(pdf, pages_text(pdf))


def test_every_page_carries_the_reference_and_its_number(report: Rendered) -> None:
    total = page_count(report.pdf)
    assert total == len(report.pages) >= 3
    for number, page in enumerate(report.pages, start=1):
        assert REF in page, f"page {number} has no reference"
        assert f"Page {number} of {total}" in page
    assert list(report.pdf.parent.iterdir()) == [report.pdf], "no temporary file left beside it"


def test_failed_items_come_first_with_their_notes(report: Rendered, demo_db) -> None:  # type: ignore[no-untyped-def]
    with demo_db.engine.connect() as conn:
        failed = conn.execute(
            text(
                "SELECT c.position, c.title, c.notes FROM checklist_items c"
                " JOIN inspections i ON i.id = c.inspection_id"
                " WHERE i.reference_code = :r AND c.result = 'fail' ORDER BY c.position"
            ),
            {"r": REF},
        ).all()
    assert failed
    body = "\n".join(report.pages[1:])
    badges = [m.group(1) for m in re.finditer(r"\b(FAIL|PASS|N/A)\b", body)]
    assert badges[: len(failed)] == ["FAIL"] * len(failed)
    assert "FAIL" not in badges[len(failed) :], "no failed item after the first passed one"
    rest = body.index("All other items")
    for position, title, notes in failed:
        assert body.index(f"{position}. {title}") < rest
        if notes:
            assert notes.split(".")[0] in " ".join(body.split())
    assert "Failed" in report.pages[0] and f"{len(failed)}" in report.pages[0]


def test_embedded_images_are_the_readable_photos_at_print_resolution(
    report: Rendered,
    demo_db,  # type: ignore[no-untyped-def]
) -> None:
    images = embedded_images(report.pdf)
    assert len(images) == _photo_count(demo_db, REF) - len(BAD_MEDIA_KEYS)
    assert {i.encoding for i in images} == {"jpeg"}
    box_w, box_h = PageGeometry().photo_box_px
    assert all(i.width <= box_w and i.height <= box_h for i in images), "never the originals"
    assert any(i.height > i.width for i in images), "portrait photos are upright"


def test_broken_photos_are_labelled_placeholders_with_the_reason(report: Rendered) -> None:
    flat = " ".join(" ".join(report.pages).split())
    assert flat.count("Photo unavailable") == len(BAD_MEDIA_KEYS)
    for reason in ("File not found", "Empty file (0 bytes)", "Not an image", "Truncated JPEG"):
        assert reason in flat


def test_pages_rasterise_with_photos_on_them(report: Rendered, tmp_path: Path) -> None:
    _cover, first_items = rasterise(report.pdf, tmp_path, 1, 2)
    image = QImage(str(first_items))
    assert not image.isNull() and image.height() > image.width()
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 4) for y in range(0, image.height(), 4)
    }
    assert len(colours) > 200, "the page shows photos, not only text"


def _review_in_journal(demo_db: Any, bundle: Path, cache: Path) -> tuple[str, int]:
    """A reviewer's work offline, in the bundle's journal: a passed item with photos sent back
    for rework and the decision. The title of that item and its photo count."""
    with demo_db.engine.connect() as conn:
        inspection_id, item_id, title, photos = conn.execute(
            text(
                "SELECT i.id, c.id, c.title, count(m.id) FROM checklist_items c"
                " JOIN inspections i ON i.id = c.inspection_id"
                " JOIN media m ON m.checklist_item_id = c.id AND m.deleted_at IS NULL"
                " WHERE i.reference_code = :r AND c.result = 'pass'"
                " AND m.storage_key NOT LIKE 'demo/bad/%'"
                " GROUP BY i.id, c.id, c.title ORDER BY c.position LIMIT 1"
            ),
            {"r": REF},
        ).one()
    with BundleArchive(bundle, cache) as archive:
        journal = ReviewJournal(journal_path(bundle), BundleIdentity.of(archive.manifest))
    reviews = JournalReviews(journal)
    for record in (
        ReviewRecord.new(
            ReviewKind.ITEM, inspection_id, target=item_id, value="needs_rework",
            comment="Photos do not show the seal", reviewer="Grace",
        ),
        ReviewRecord.new(
            ReviewKind.INSPECTION, inspection_id, value="changes_requested",
            comment="Two items to redo", reviewer="Grace",
        ),
    ):  # fmt: skip
        asyncio.run(reviews.record(record, QueryMetrics()))
    return title, photos


def test_report_from_a_bundle_carries_the_reviews_in_its_journal(  # type: ignore[no-untyped-def]
    demo_db, qapp, tmp_path: Path, capsys
) -> None:
    require_poppler()
    bundle = tmp_path / "b.ivbundle"
    export_bundle(demo_db.engine, open_store(demo_db.media_dir.as_uri()), [REF], out=bundle)
    title, reworked_photos = _review_in_journal(demo_db, bundle, tmp_path / "d" / "cache")
    pdf = tmp_path / "from-bundle.pdf"
    args = ["--data-dir", str(tmp_path / "d"), "report", REF, "--bundle", str(bundle)]
    assert main([*args, "--out", str(pdf)]) == 0
    assert "from-bundle.pdf" in capsys.readouterr().out
    pages = pages_text(pdf)
    assert all(REF in page for page in pages)
    assert "Changes requested by Grace" in pages[0] and "Two items to redo" in pages[0]
    body = " ".join(" ".join(pages[1:]).split())
    attention = body[: body.index("All other items")]
    assert title in attention and "Needs rework" in attention and "do not show the seal" in body
    # --photos failed (the default): the failed items' photos and the reworked item's.
    expected = _photo_count(demo_db, REF, failed_only=True) + reworked_photos
    assert len(embedded_images(pdf)) == expected


def test_out_dir_writes_one_file_per_inspection(demo_db, qapp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    require_poppler()
    with demo_db.engine.connect() as conn:
        other = conn.execute(
            text("SELECT reference_code FROM inspections WHERE reference_code <> :r LIMIT 1"),
            {"r": REF},
        ).scalar_one()
    out = tmp_path / "reports"
    args = [*_args(demo_db, tmp_path), "report", REF, other, "--photos", "none"]
    assert main([*args, "--out-dir", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{REF}.pdf", f"{other}.pdf"])
    assert embedded_images(out / f"{other}.pdf") == []
    assert other in pages_text(out / f"{other}.pdf")[0]


def test_the_report_streams_each_inspections_photos_as_the_window_does(  # type: ignore[no-untyped-def]
    demo_db, qapp, server_calls, tmp_path: Path
) -> None:
    # One streamed statement per inspection, counted by the server: a report made in the
    # window runs on its GUI thread, which the whole result at once held for 62-128 ms for
    # 20,000 photos.
    with demo_db.engine.connect() as conn:
        others = list(
            conn.execute(
                text(
                    "SELECT reference_code FROM inspections WHERE reference_code <> :r"
                    " ORDER BY id DESC LIMIT 2"
                ),
                {"r": REF},
            ).scalars()
        )
    patterns = ("%FROM get_inspection_media_stream(%", "%get_inspection_media_batch(%")
    before = [server_calls(demo_db.engine, p) for p in patterns]

    args = [*_args(demo_db, tmp_path), "report", REF, *others, "--photos", "none"]
    assert main([*args, "--out-dir", str(tmp_path / "reports")]) == 0

    after = [server_calls(demo_db.engine, p) for p in patterns]
    assert [a - b for a, b in zip(after, before, strict=True)] == [3, 0]


def _one_line(message: str) -> str:
    assert message.strip() and "\n" not in message.strip() and "Traceback" not in message
    return message.strip()


def test_unknown_reference_is_one_line_and_writes_nothing(  # type: ignore[no-untyped-def]
    demo_db, qapp, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "r.pdf"
    code = main([*_args(demo_db, tmp_path), "report", REF, "INS-0000-NOPE", "--out", str(out)])
    assert code == 1
    assert "no inspection with reference INS-0000-NOPE" in _one_line(capsys.readouterr().err)
    assert not out.exists()


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (["--out", "{tmp}/missing/r.pdf"], "does not exist"),
        (["--out", "{tmp}/r.txt"], "ends in .pdf"),
        (["--out", "{tmp}/r.pdf", "--out-dir", "{tmp}"], "not allowed with argument"),
    ],
)
def test_bad_destinations_are_one_line_and_exit_2(  # type: ignore[no-untyped-def]
    tmp_path: Path, capsys, where: list[str], expected: str
) -> None:
    args = ["--data-dir", str(tmp_path / "d"), "report", REF]
    args += [w.format(tmp=tmp_path) for w in where]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own usage error
        code = int(exc.code or 0)
    assert code == 2
    assert expected in _one_line(capsys.readouterr().err)
