"""Large valid photos decode (never "Damaged"), and the memory a decode needs is known from the
header before it starts (estimated_decode_bytes, which the service reserves from its budget).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from tests.fixtures_images import write_heic, write_jpeg, write_large_png
from viewer.thumbnails.decode import (
    DEFAULT_MAX_PIXELS,
    ErrorKind,
    ThumbnailError,
    decode_scaled,
    estimated_decode_bytes,
)

MB = 1_000_000


def _write_99_mp(path: Path, kind: str) -> tuple[int, int]:
    """Single-colour files that compress to almost nothing; WebP's edge is at most 16383."""
    if kind == "png":
        write_large_png(path, 11_000, 9_000)
        return 11_000, 9_000
    if kind == "gif":
        Image.new("P", (11_000, 9_000), 3).save(path, "GIF")
        return 11_000, 9_000
    Image.new("RGB", (16_383, 6_040), (10, 120, 200)).save(path, "WEBP", lossless=True)
    return 16_383, 6_040


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["png", "gif", "webp"])
def test_a_valid_99_mp_photo_decodes_instead_of_being_called_damaged(
    tmp_path: Path, kind: str
) -> None:
    """Issue #12: Qt's 256 MB allocation limit refused these (under our 100 MP limit) and the
    grid said "Damaged image". Qt's limit now follows our pixel limit; the service's memory
    budget counts the decode in through estimated_decode_bytes."""
    path = tmp_path / f"large.{kind}"
    width, height = _write_99_mp(path, kind)
    assert width * height <= DEFAULT_MAX_PIXELS
    assert width * height * 4 > 256 * 2**20
    image = decode_scaled(path, 256)
    assert image.width() == 256
    assert abs(image.height() - round(256 * height / width)) <= 1
    assert estimated_decode_bytes(path.read_bytes(), 256) >= width * height * 4


def test_over_the_pixel_limit_is_too_large_before_any_decoding(tmp_path: Path) -> None:
    path = write_large_png(tmp_path / "large.png", 2_000, 1_500)
    with pytest.raises(ThumbnailError) as raised:
        decode_scaled(path, 256, max_pixels=2_999_999)
    assert raised.value.kind is ErrorKind.TOO_LARGE
    assert raised.value.reason == "2000x1500 (3 MP) is over the 3 MP limit"


def test_a_full_size_decode_is_estimated_at_four_bytes_a_pixel(tmp_path: Path) -> None:
    data = write_large_png(tmp_path / "p.png", 3_000, 2_000).read_bytes()
    estimate = estimated_decode_bytes(data, 256)
    assert 3_000 * 2_000 * 4 <= estimate < 3_000 * 2_000 * 4 + 6 * MB
    # Sixteen bits a sample: Qt decodes into 64-bit pixels.
    deep = write_large_png(tmp_path / "p16.png", 300, 200, bit_depth=16).read_bytes()
    assert estimated_decode_bytes(deep, None) >= 300 * 200 * 8


def test_a_jpeg_is_estimated_at_the_reduced_size_libjpeg_decodes(tmp_path: Path) -> None:
    data = write_jpeg(tmp_path / "p.jpg", 4_000, 3_000).read_bytes()
    full = estimated_decode_bytes(data, None)
    grid = estimated_decode_bytes(data, 256)
    preview = estimated_decode_bytes(data, 1024)
    assert full >= 4_000 * 3_000 * 4
    # 1/8 for the grid (500x375), 3/8 for a 1024 px preview.
    assert grid < 500 * 375 * 4 + 2 * len(data) + 6 * MB
    assert grid < preview < full


def test_a_progressive_jpeg_also_holds_every_coefficient(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.jpg"
    progressive = tmp_path / "progressive.jpg"
    image = Image.new("RGB", (2_000, 1_600), (90, 120, 30))
    image.save(baseline, "JPEG", quality=80)
    image.save(progressive, "JPEG", quality=80, progressive=True)
    extra = estimated_decode_bytes(progressive.read_bytes(), 256) - estimated_decode_bytes(
        baseline.read_bytes(), 256
    )
    # 4:2:0: one and a half components a pixel, 2 bytes a coefficient.
    assert extra >= 2_000 * 1_600 * 3 - 64 * 1024


def test_a_heic_with_a_thumbnail_is_estimated_at_the_thumbnail(tmp_path: Path) -> None:
    plain = write_heic(tmp_path / "plain.heic", 640, 480).read_bytes()
    with_thumb = write_heic(tmp_path / "t.heic", 640, 480, thumbnails=[320]).read_bytes()
    photo = estimated_decode_bytes(plain, 256)
    assert photo >= 640 * 480 * 8
    assert estimated_decode_bytes(with_thumb, 256) < photo - 640 * 480 * 4
    # The thumbnail is too small for a 400 px tile: the photo is decoded.
    assert estimated_decode_bytes(with_thumb, 400) >= photo


def test_a_decode_over_the_memory_limit_is_too_large_before_decoding(tmp_path: Path) -> None:
    """Sixteen-bit samples at 99 MP would need 1.6 GB: refused, with how much, never "damaged"."""
    path = write_large_png(tmp_path / "deep.png", 1_000, 800, bit_depth=16)
    with pytest.raises(ThumbnailError) as raised:
        decode_scaled(path, 256, max_decode_bytes=10 * MB)
    assert raised.value.kind is ErrorKind.TOO_LARGE
    assert raised.value.reason.startswith("Decoding needs about 17 MB of memory, over the 10 MB")
    assert decode_scaled(path, 256, max_decode_bytes=20 * MB).width() == 256


def test_a_file_refused_before_decoding_costs_its_bytes_only(tmp_path: Path) -> None:
    text = b"Site notes: gutter bracket loose.\n" * 40
    assert estimated_decode_bytes(text, 256) == 2 * len(text)
    huge_header = b"\x89PNG\r\n\x1a\n" + _chunk(
        b"IHDR", struct.pack(">IIBBBBB", 20_000, 20_000, 8, 2, 0, 0, 0)
    )
    huge = huge_header + _chunk(b"IEND", b"")
    assert estimated_decode_bytes(huge, 256) == 2 * len(huge)
    assert estimated_decode_bytes(huge, 256, max_pixels=500_000_000) > 20_000**2 * 4


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
