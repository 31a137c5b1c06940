"""HEIC/HEIF, the iPhone's default: real files made by pillow-heif, decoded from their embedded
thumbnail when it will do, orientation applied, and damaged ones named as such (in a child)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

from tests.fixtures_images import MARKER_RGB, decode_in_child, write_heic
from viewer.thumbnails.decode import ErrorKind, ThumbnailError, decode_bytes, decode_scaled
from viewer.thumbnails.heif import scaled_heif


def _is_marker(color: QColor) -> bool:
    return abs(color.red() - MARKER_RGB[0]) < 40 and color.green() < 80 and color.blue() < 80


def test_a_heic_photo_decodes_at_the_size_asked(tmp_path: Path) -> None:
    image = decode_scaled(write_heic(tmp_path / "p.heic", 640, 480), 256)
    assert (image.width(), image.height()) == (256, 192)
    assert image.format() == QImage.Format.Format_RGB32
    assert _is_marker(image.pixelColor(5, 5))


def test_the_orientation_is_applied(tmp_path: Path) -> None:
    """EXIF orientation 6 becomes the container's rotation, which libheif applies."""
    image = decode_scaled(write_heic(tmp_path / "r.heic", 400, 300, orientation=6), 256)
    assert (image.width(), image.height()) == (192, 256)
    assert _is_marker(image.pixelColor(image.width() - 5, 5))
    assert not _is_marker(image.pixelColor(5, 5))


def test_the_embedded_thumbnail_is_used_when_it_is_large_enough(tmp_path: Path) -> None:
    data = write_heic(tmp_path / "t.heic", 640, 480, thumbnails=[320]).read_bytes()
    scaled = scaled_heif(data, 256, max_pixels=10**8)
    assert scaled.decoded_size == (320, 240)
    assert scaled.image.size == (256, 192)


def test_a_rotated_photo_uses_its_thumbnail_the_same_way_up(tmp_path: Path) -> None:
    path = write_heic(tmp_path / "rt.heic", 640, 480, orientation=6, thumbnails=[320])
    scaled = scaled_heif(path.read_bytes(), 256, max_pixels=10**8)
    assert scaled.decoded_size == (240, 320)
    image = decode_scaled(path, 256)
    assert (image.width(), image.height()) == (192, 256)
    assert _is_marker(image.pixelColor(image.width() - 5, 5))


@pytest.mark.parametrize(
    ("thumbnails", "size_px"),
    [
        ([], 256),  # no thumbnail
        ([128], 256),  # smaller than the tile
        ([320], 1024),  # smaller than the preview (the photo itself is not upscaled)
    ],
)
def test_without_a_thumbnail_that_fits_the_photo_is_decoded(
    tmp_path: Path, thumbnails: list[int], size_px: int
) -> None:
    data = write_heic(tmp_path / "p.heic", 640, 480, thumbnails=thumbnails).read_bytes()
    scaled = scaled_heif(data, size_px, max_pixels=10**8)
    assert scaled.decoded_size == (640, 480)
    assert scaled.image.size == (min(size_px, 640), min(size_px, 640) * 3 // 4)


def test_an_alpha_channel_is_kept(tmp_path: Path) -> None:
    image = decode_scaled(write_heic(tmp_path / "a.heic", 200, 100, alpha=True), 100)
    assert image.format() == QImage.Format.Format_ARGB32
    assert image.hasAlphaChannel()
    assert 100 < image.pixelColor(90, 40).alpha() < 160


def test_the_image_owns_its_pixels(tmp_path: Path) -> None:
    """The QImage is a copy: nothing of Pillow's or Python's memory is borrowed."""
    data = write_heic(tmp_path / "p.heic", 64, 48).read_bytes()
    first = decode_bytes(data, 64)
    second = decode_bytes(data, 64)
    assert first == second
    first.fill(QColor(0, 0, 0))
    assert _is_marker(second.pixelColor(2, 2))


def test_the_pixel_limit_is_checked_before_decoding(tmp_path: Path) -> None:
    data = write_heic(tmp_path / "p.heic", 640, 480).read_bytes()
    with pytest.raises(ThumbnailError) as raised:
        decode_bytes(data, 256, max_pixels=300_000)
    assert raised.value.kind is ErrorKind.TOO_LARGE


def test_damaged_heic_files_are_corrupt_in_a_child(tmp_path: Path) -> None:
    whole = write_heic(tmp_path / "whole.heic", 320, 240, thumbnails=[160]).read_bytes()
    damaged = {
        "cut-in-header.heic": whole[:200],
        "cut-in-data.heic": whole[: len(whole) * 3 // 4],
        "garbage-after-brand.heic": whole[:32] + bytes(range(256)) * 8,
        "zeroed-meta.heic": whole[:40] + bytes(400) + whole[440:],
    }
    for name, data in damaged.items():
        (tmp_path / name).write_bytes(data)
    outcomes = decode_in_child([tmp_path / name for name in damaged], 256)
    for name in damaged:
        outcome = outcomes[tmp_path / name]
        assert not outcome.died, (name, outcome.died)
        assert outcome.kind == "corrupt", (name, outcome)
        assert outcome.reason.startswith("Damaged HEIC/HEIF image: "), outcome.reason
        assert outcome.png is None
