"""Which formats a photo can be, from the bytes alone: headers read without a decoder, and
everything that is not a photo refused with what it seems to be (no Qt involved)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtGui import QImageReader

from tests.fixtures_images import write_heic
from viewer.thumbnails.decode import decode_bytes
from viewer.thumbnails.formats import ErrorKind, PhotoFormat, ThumbnailError, sniff
from viewer.thumbnails.headers import read_header


def _saved(
    pillow_format: str, size: tuple[int, int], mode: str = "RGB", **options: object
) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, 90).save(out, pillow_format, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("pillow_format", "mode", "options", "expected"),
    [
        ("JPEG", "RGB", {}, PhotoFormat.JPEG),
        ("JPEG", "L", {"progressive": True}, PhotoFormat.JPEG),
        ("PNG", "RGB", {}, PhotoFormat.PNG),
        ("PNG", "P", {}, PhotoFormat.PNG),
        ("GIF", "P", {}, PhotoFormat.GIF),
        ("WEBP", "RGB", {"lossless": False}, PhotoFormat.WEBP),  # VP8
        ("WEBP", "RGB", {"lossless": True}, PhotoFormat.WEBP),  # VP8L
        ("WEBP", "RGBA", {"exif": b"Exif\x00\x00"}, PhotoFormat.WEBP),  # VP8X
        ("BMP", "RGB", {}, PhotoFormat.BMP),
        ("TIFF", "RGB", {}, PhotoFormat.TIFF),
        ("TIFF", "RGB", {"compression": "tiff_lzw"}, PhotoFormat.TIFF),
    ],
)
def test_the_header_gives_the_format_and_the_stored_size(
    pillow_format: str, mode: str, options: dict[str, object], expected: PhotoFormat
) -> None:
    header = read_header(_saved(pillow_format, (1234, 567), mode, **options))
    assert (header.format, header.width, header.height) == (expected, 1234, 567)


@pytest.mark.parametrize(
    ("pillow_format", "mode", "options", "expected"),
    [
        ("PNG", "RGB", {}, 4),
        ("TIFF", "RGB", {}, 4),
        ("WEBP", "RGB", {"lossless": True}, 5),
        ("BMP", "RGB", {}, 4),
        # Qt makes a 32-bit or premultiplied copy to scale these.
        ("PNG", "P", {}, 8),
        ("PNG", "L", {}, 8),
        ("PNG", "RGBA", {}, 8),
        ("WEBP", "RGBA", {"lossless": True}, 8),
        ("WEBP", "RGBA", {"lossless": False}, 8),
        ("GIF", "P", {}, 4),
        ("GIF", "P", {"transparency": 90}, 8),
        ("BMP", "P", {}, 8),
        ("TIFF", "L", {}, 8),
        # Sixteen-bit and float samples.
        ("TIFF", "I;16", {}, 16),
        ("TIFF", "F", {}, 32),
    ],
)
def test_the_bytes_a_pixel_follow_what_qt_makes_of_the_samples(
    pillow_format: str, mode: str, options: dict[str, object], expected: int
) -> None:
    assert read_header(_saved(pillow_format, (40, 30), mode, **options)).bytes_per_pixel == expected


def test_heif_is_recognised_by_its_brand(tmp_path: Path) -> None:
    data = write_heic(tmp_path / "p.heic", 64, 48).read_bytes()
    assert sniff(data) is PhotoFormat.HEIF
    avif = b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf" + bytes(64)
    assert sniff(avif) is PhotoFormat.AVIF


SVG = b'<?xml version="1.0"?>\n<!-- drawn by hand -->\n<svg xmlns="http://www.w3.org/2000/svg"/>'


@pytest.mark.parametrize(
    ("content", "kind", "reason"),
    [
        (SVG, ErrorKind.UNSUPPORTED, "SVG drawings are not photos"),
        (
            b"\xef\xbb\xbf<SVG width='10'></SVG>",
            ErrorKind.UNSUPPORTED,
            "SVG drawings are not photos",
        ),
        (
            b"<html><body>not a photo</body></html>",
            ErrorKind.NOT_IMAGE,
            "Not an image: a text file",
        ),
        (b"#define x_width 8\n#define x_height 8\n", ErrorKind.UNSUPPORTED, "An XBM drawing"),
        (b"/* XPM */\nstatic char *x[] = {};", ErrorKind.UNSUPPORTED, "An XPM drawing"),
        (b"P6\n8 8\n255\n" + bytes(192), ErrorKind.UNSUPPORTED, "A PBM/PGM/PPM image"),
        (b"\x00\x00\x01\x00\x01\x00" + bytes(40), ErrorKind.UNSUPPORTED, "An icon (ICO)"),
        (b"BM but only a note about BMW cars", ErrorKind.NOT_IMAGE, "Not an image: a text file"),
        (
            b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(40),
            ErrorKind.NOT_IMAGE,
            "Not an image: an audio",
        ),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00" + bytes(40), ErrorKind.NOT_IMAGE, "A video"),
        (b"II+\x00\x08\x00\x00\x00" + bytes(40), ErrorKind.UNSUPPORTED, "BigTIFF image"),
    ],
)
def test_what_is_not_a_photo_is_refused_with_what_it_is(
    content: bytes, kind: ErrorKind, reason: str
) -> None:
    with pytest.raises(ThumbnailError) as raised:
        sniff(content)
    assert raised.value.kind is kind
    assert raised.value.reason.startswith(reason)


def test_a_tga_is_refused_by_its_footer() -> None:
    with pytest.raises(ThumbnailError) as raised:
        sniff(_saved("TGA", (8, 8)))
    assert raised.value.reason == "A TGA image, not a photo format"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"GIF89a\x10", "Truncated GIF"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8Z" + bytes(30), "Damaged WebP"),
        (b"II*\x00\xff\xff\x00\x00", "Damaged TIFF"),
        (b"II*\x00\x08\x00\x00\x00\x00\x00", "Damaged TIFF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + bytes(17), "Truncated PNG"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIDAT" + bytes(17), "Damaged PNG"),
    ],
)
def test_a_photo_with_a_broken_header_is_corrupt(content: bytes, reason: str) -> None:
    with pytest.raises(ThumbnailError) as raised:
        read_header(content)
    assert raised.value.kind is ErrorKind.CORRUPT
    assert raised.value.reason.startswith(reason)


def test_without_a_qt_reader_for_a_photo_format_it_is_unsupported() -> None:
    if b"avif" in {bytes(f.data()) for f in QImageReader.supportedImageFormats()}:
        pytest.skip("this Qt reads AVIF")
    avif = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(100)
    with pytest.raises(ThumbnailError) as raised:
        decode_bytes(avif, 256)
    assert raised.value.kind is ErrorKind.UNSUPPORTED
    assert raised.value.reason == "AVIF image: format not supported"
