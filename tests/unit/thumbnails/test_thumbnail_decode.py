"""decode_scaled: EXIF orientation, scaling without upscaling, and every kind of bad original.

pytest-qt fails any test during which Qt logs a warning, so each bad file here also proves the
pre-checks keep libjpeg and libpng quiet.
"""

from __future__ import annotations

import os
from pathlib import Path, PosixPath

import pytest
from PIL import Image
from PySide6.QtGui import QColor, QImage

from tests.fixtures_images import BAD_FILES, MARKER_RGB, write_jpeg
from viewer.thumbnails.decode import ErrorKind, ThumbnailError, decode_scaled


def _is_marker(color: QColor) -> bool:
    return abs(color.red() - MARKER_RGB[0]) < 40 and color.green() < 80 and color.blue() < 80


def test_exif_orientation_6_gives_rotated_dimensions(tmp_path: Path) -> None:
    photo = write_jpeg(tmp_path / "rotated.jpg", 400, 300, orientation=6)
    image = decode_scaled(photo, 256)
    assert (image.width(), image.height()) == (192, 256)
    # Orientation 6 is "rotate 90° clockwise to display": the stored top-left goes top-right.
    assert _is_marker(image.pixelColor(image.width() - 5, 5))
    assert not _is_marker(image.pixelColor(5, 5))


def test_the_long_edge_becomes_the_size(tmp_path: Path) -> None:
    landscape = decode_scaled(write_jpeg(tmp_path / "l.jpg", 1600, 1200), 256)
    portrait = decode_scaled(write_jpeg(tmp_path / "p.jpg", 900, 1600), 256)
    assert (landscape.width(), landscape.height()) == (256, 192)
    assert (portrait.width(), portrait.height()) == (144, 256)


def test_a_small_original_is_never_upscaled(tmp_path: Path) -> None:
    image = decode_scaled(write_jpeg(tmp_path / "small.jpg", 120, 90, orientation=6), 1024)
    assert (image.width(), image.height()) == (90, 120)


def test_content_decides_the_format_not_the_name(tmp_path: Path) -> None:
    png_named_jpg = tmp_path / "really-a-png.jpg"
    Image.new("RGB", (300, 200), (10, 120, 200)).save(png_named_jpg, "PNG")
    image = decode_scaled(png_named_jpg, 256)
    assert (image.width(), image.height()) == (256, 171)


def test_data_after_the_end_of_image_is_accepted(tmp_path: Path) -> None:
    photo = write_jpeg(tmp_path / "trailer.jpg", 320, 240)
    with photo.open("ab") as f:
        f.write(b"SEFT camera trailer bytes" * 10)
    assert not decode_scaled(photo, 256).isNull()


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_original_raises_its_kind(name: str, bad_files: dict[str, Path]) -> None:
    with pytest.raises(ThumbnailError) as raised:
        decode_scaled(bad_files[name], 256)
    assert raised.value.kind is BAD_FILES[name][1]
    assert raised.value.reason


def test_reasons_say_what_the_file_is(bad_files: dict[str, Path]) -> None:
    def reason(name: str) -> str:
        with pytest.raises(ThumbnailError) as raised:
            decode_scaled(bad_files[name], 256)
        return raised.value.reason

    assert "Truncated JPEG" in reason("truncated")
    assert "text file" in reason("text")
    assert "HEIC" in reason("heic")
    assert "12000x10000" in reason("huge")


def test_a_jpeg_cut_inside_its_header_is_corrupt(tmp_path: Path) -> None:
    whole = write_jpeg(tmp_path / "whole.jpg", 200, 150).read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole[:40])
    with pytest.raises(ThumbnailError) as raised:
        decode_scaled(cut, 256)
    assert raised.value.kind is ErrorKind.CORRUPT


def test_a_pdf_is_not_an_image(tmp_path: Path) -> None:
    pdf = tmp_path / "report.jpg"
    pdf.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    with pytest.raises(ThumbnailError) as raised:
        decode_scaled(pdf, 256)
    assert raised.value.kind is ErrorKind.NOT_IMAGE
    assert "PDF" in raised.value.reason


def test_the_pixel_limit_is_checked_before_decoding(tmp_path: Path) -> None:
    photo = write_jpeg(tmp_path / "photo.jpg", 400, 300)
    with pytest.raises(ThumbnailError) as raised:
        decode_scaled(photo, 256, max_pixels=100_000)
    assert raised.value.kind is ErrorKind.TOO_LARGE
    assert decode_scaled(photo, 256, max_pixels=120_000).width() == 256


def test_a_folder_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(ThumbnailError) as raised:
        decode_scaled(tmp_path, 256)
    assert raised.value.kind is ErrorKind.NOT_IMAGE


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_file_without_read_permission_is_unreadable(tmp_path: Path) -> None:
    photo = write_jpeg(tmp_path / "private.jpg", 64, 48)
    photo.chmod(0)
    with pytest.raises(ThumbnailError) as raised:
        decode_scaled(photo, 256)
    assert raised.value.kind is ErrorKind.UNREADABLE


class _PermissionDeniedPath(PosixPath):
    """A path whose open() fails as a file without read permission does (a fault injected)."""

    def open(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        raise PermissionError(13, "Permission denied", str(self))


def test_permission_denied_fault_injected_is_unreadable(tmp_path: Path) -> None:
    write_jpeg(tmp_path / "private.jpg", 64, 48)
    with pytest.raises(ThumbnailError) as raised:
        decode_scaled(_PermissionDeniedPath(tmp_path / "private.jpg"), 256)
    assert raised.value.kind is ErrorKind.UNREADABLE
    assert raised.value.reason == "Permission denied"


def test_decoded_images_are_ready_to_paint(tmp_path: Path) -> None:
    image = decode_scaled(write_jpeg(tmp_path / "p.jpg", 640, 480), 256)
    assert image.format() in (QImage.Format.Format_RGB32, QImage.Format.Format_ARGB32)
