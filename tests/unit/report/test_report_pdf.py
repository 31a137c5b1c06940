"""The report's PDF from hand-made records and real image files: order, photos upright at print
resolution and never enlarged, hostile photos and text, cancel leaving no file."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from db.records import ChecklistEntry, InspectionMedia, InspectionSummary, ItemMedia, MediaItem
from db.storage import LocalStore
from tests.fixtures_images import MARKER_RGB, write_huge_png, write_jpeg
from tests.pdf_tools import (
    embedded_images,
    extract_images,
    page_count,
    pages_text,
    require_poppler,
)
from viewer.report import (
    ItemVerdict,
    PhotoChoice,
    ReportCancelled,
    ReportInspection,
    ReviewSummary,
    write_report,
)
from viewer.report.page import PageGeometry
from viewer.report.targets import file_name

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOSTILE_NOTE = "Leak\x00 under the sink \u202e" + "x" * 20_000


@pytest.fixture(autouse=True)
def _tools(qapp) -> None:  # type: ignore[no-untyped-def]
    require_poppler()


def _media(media_id: int, item: ChecklistEntry, key: str, caption: str) -> MediaItem:
    return MediaItem(
        media_id, item.id, key, "image/jpeg", 1, 1, 1, "", caption,
        T0 + timedelta(minutes=media_id), item.position,
    )  # fmt: skip


def _entry(item_id: int, position: int, result: str, notes: str | None = None) -> ChecklistEntry:
    return ChecklistEntry(item_id, 7, "Kitchen", position, f"Item {position}", result, notes, 0)


@pytest.fixture
def photos(tmp_path: Path) -> LocalStore:
    """A store with an upright-on-display photo (EXIF 6), a small one and a decompression bomb."""
    folder = tmp_path / "media"
    write_jpeg(folder / "rotated.jpg", 1600, 1200, orientation=6)
    write_jpeg(folder / "small.jpg", 200, 150, seed=2)
    write_huge_png(folder / "bomb.png", 12_000, 12_000)
    return LocalStore(folder)


def _inspection(review: ReviewSummary | None = None) -> ReportInspection:
    passed = _entry(1, 1, "pass")
    failed = _entry(2, 2, "fail", HOSTILE_NOTE)
    pending = _entry(3, 3, "pending")
    groups = (
        ItemMedia(1, 1, (_media(11, passed, "small.jpg", "Tap, small"),)),
        ItemMedia(
            2,
            2,
            (
                _media(21, failed, "rotated.jpg", "Sink, rotated"),
                _media(22, failed, "bomb.png", "A bomb"),
                _media(23, failed, "gone.jpg", "Never uploaded"),
            ),
        ),
    )
    summary = InspectionSummary(
        7, "INS-TEST-0001", "Test Site", "1 Test Street", "Ada", "completed", T0, T0, 4
    )
    return ReportInspection(summary, (passed, failed, pending), InspectionMedia(7, groups), review)


def test_failed_items_first_photos_upright_never_enlarged_and_bad_photos_labelled(
    photos: LocalStore, tmp_path: Path
) -> None:
    out = tmp_path / "r.pdf"
    summary = write_report(out, [_inspection()], photos, PhotoChoice.ALL)
    assert (summary.photos, summary.unavailable) == (2, 2)
    assert page_count(out) == summary.pages == len(pages_text(out))
    text = "\n".join(pages_text(out))
    assert text.index("FAIL") < text.index("PASS"), "the failed item comes first"
    assert text.index("2. Item 2") < text.index("1. Item 1")
    assert "Image too large" in text and "File missing" in text and "File not found" in text
    assert "x" * 2000 not in text, "a hostile note is cut"

    images = embedded_images(out)
    assert [i.encoding for i in images] == ["jpeg", "jpeg"], "re-encoded, never the originals"
    rotated, small = images
    box_h = PageGeometry().photo_box_px[1]
    assert rotated.height > rotated.width and rotated.height <= box_h, "upright, print size"
    assert (small.width, small.height) == (200, 150), "a small photo is not enlarged"
    assert small.x_ppi >= 149

    # The stored top-left marker is at the top right once EXIF orientation 6 is applied.
    first = QImage(str(extract_images(out, tmp_path / "x")[0]))
    corner = first.pixelColor(first.width() - 5, 5)
    assert abs(corner.red() - MARKER_RGB[0]) < 40 and corner.green() < 80


def test_review_decision_and_needs_rework_verdict_are_shown(
    photos: LocalStore, tmp_path: Path
) -> None:
    review = ReviewSummary(
        decision="changes_requested",
        summary="Fix the tap before handover.",
        reviewer="Grace",
        decided_at=T0,
        verdicts={1: ItemVerdict("needs_rework", "Tap drips", "Grace", T0)},
        photo_flags={11: "Unclear"},
    )
    out = tmp_path / "r.pdf"
    write_report(out, [_inspection(review)], photos, PhotoChoice.FAILED)
    pages = pages_text(out)
    assert "Changes requested by Grace" in pages[0] and "Fix the tap" in pages[0]
    attention = pages[1][: pages[1].index("All other items")]
    assert "1. Item 1" in attention and "Needs rework" in attention and "Tap drips" in attention
    assert "Review: Unclear" in "\n".join(pages)
    # Both attention items' photos are in (the passed-but-sent-back one too); nothing else.
    assert len(embedded_images(out)) == 2


def test_photos_none_embeds_no_image_and_says_how_many_were_left_out(
    photos: LocalStore, tmp_path: Path
) -> None:
    out = tmp_path / "r.pdf"
    write_report(out, [_inspection()], photos, PhotoChoice.NONE)
    assert embedded_images(out) == []
    assert "3 photos (not included in this report)" in "\n".join(pages_text(out))


def test_a_cancelled_report_leaves_no_file_at_all(photos: LocalStore, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    cancel = threading.Event()

    def progress(phase: str, done: int, total: int) -> None:
        if done == 2:
            cancel.set()

    with pytest.raises(ReportCancelled):
        write_report(
            out_dir / "r.pdf", [_inspection()], photos, PhotoChoice.ALL,
            progress=progress, cancel=cancel,
        )  # fmt: skip
    assert list(out_dir.iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("report-photo")]


def test_file_names_from_references_stay_in_their_folder() -> None:
    taken: set[str] = set()
    hostile = _inspection()
    names = [
        file_name(hostile, taken),
        file_name(hostile, taken),
    ]
    assert names == ["INS-TEST-0001.pdf", "INS-TEST-0001-7.pdf"]
    summary = InspectionSummary(9, "../../etc/passwd", "", "", "", "draft", T0, None, 0)
    odd = ReportInspection(summary, (), InspectionMedia(9, ()))
    assert file_name(odd, taken) == "etc_passwd.pdf"


def test_review_state_becomes_what_the_report_shows() -> None:
    from db.review import ReviewKind, ReviewRecord, ReviewState
    from viewer.report.review import review_summary

    assert review_summary(ReviewState(7)) is None
    verdict = ReviewRecord.new(
        ReviewKind.ITEM, 7, target=1, value="needs_rework", comment="Redo", reviewer="Grace"
    )
    flag = ReviewRecord.new(ReviewKind.PHOTO, 7, target=11, value="wrong_item", reviewer="Grace")
    decision = ReviewRecord.new(
        ReviewKind.INSPECTION, 7, value="approved", comment="Fine", reviewer="Alan"
    )
    state = ReviewState(7).with_record(verdict).with_record(flag).with_record(decision)
    shown = review_summary(state)
    assert shown is not None
    assert (shown.decision_label, shown.summary, shown.reviewer) == ("Approved", "Fine", "Alan")
    assert shown.verdicts[1].label == "Needs rework" and shown.verdicts[1].comment == "Redo"
    assert shown.photo_flags == {11: "Wrong item"}
    inspection = _inspection(shown)
    assert [e.id for e in inspection.attention_items()] == [1, 2]


def test_hostile_text_is_cut_and_the_reference_stays_on_every_page(
    photos: LocalStore, tmp_path: Path
) -> None:
    inspection = _inspection()
    long = "Tower " * 2_000
    summary = InspectionSummary(7, "INS-TEST-0001", long, long, long, "completed", T0, T0, 4)
    entries = tuple(
        ChecklistEntry(100 + i, 7, long, i, long, "pass", long, 0) for i in range(1, 13)
    )
    hostile = ReportInspection(summary, inspection.checklist + entries, inspection.media)
    out = tmp_path / "r.pdf"
    written = write_report(out, [hostile], photos, PhotoChoice.NONE)
    pages = pages_text(out)
    assert len(pages) == written.pages < 60
    assert all("INS-TEST-0001" in page for page in pages)
