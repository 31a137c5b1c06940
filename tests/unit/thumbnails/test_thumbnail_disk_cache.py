"""The disk cache follows the freedesktop.org thumbnail standard and never leaves half a file."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QImage

from tests.fixtures_images import write_jpeg
from viewer.thumbnails.decode import decode_scaled
from viewer.thumbnails.disk_cache import (
    DiskThumbnailCache,
    OriginalFile,
    app_thumbnail_root,
    file_uri,
    flavour_for,
    read_png_text,
    shared_thumbnail_root,
    thumbnail_name,
)


@pytest.fixture
def original(tmp_path: Path) -> OriginalFile:
    return OriginalFile.from_path(write_jpeg(tmp_path / "photos" / "roof 1.jpg", 800, 600))


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_the_standards_example_name() -> None:
    uri = file_uri(Path("/home/jens/photos/me.png"))
    assert uri == "file:///home/jens/photos/me.png"
    assert thumbnail_name(uri) == "c6ee772d9e49320e97ec29a7eb5b1697.png"


def test_uris_are_percent_encoded_as_qurl_does() -> None:
    path = Path("/tmp/site visit/Überdach [2]#1;=&,$!'()*+@~.jpg")
    assert file_uri(path) == QUrl.fromLocalFile(str(path)).toString(
        QUrl.ComponentFormattingOption.FullyEncoded
    )
    assert file_uri(path).startswith("file:///tmp/site%20visit/%C3%9Cberdach%20%5B2%5D%231")


@pytest.mark.parametrize(
    ("size", "name"),
    [
        (1, "normal"),
        (128, "normal"),
        (129, "large"),
        (256, "large"),
        (300, "x-large"),
        (512, "x-large"),
        (1024, "xx-large"),
    ],
)
def test_a_size_maps_to_the_smallest_flavour_that_holds_it(size: int, name: str) -> None:
    flavour = flavour_for(size)
    assert flavour is not None and flavour.name == name


def test_sizes_above_1024_are_not_disk_cached(tmp_path: Path, original: OriginalFile) -> None:
    assert flavour_for(1025) is None
    image = decode_scaled(original.path, 2048)
    assert DiskThumbnailCache(tmp_path / "t").store(original, image, 2048) is None


def test_stored_thumbnail_follows_the_standard(tmp_path: Path, original: OriginalFile) -> None:
    root = tmp_path / "thumbnails"
    cache = DiskThumbnailCache(root)
    written = cache.store(original, decode_scaled(original.path, 256), 256)
    expected = root / "large" / (hashlib.md5(original.uri.encode()).hexdigest() + ".png")
    assert written == expected
    assert _files(root) == [expected]  # no temporary file left
    with Image.open(expected) as png:  # an independent reader of the tEXt chunks
        assert png.format == "PNG" and png.size == (256, 192)
        assert png.text["Thumb::URI"] == original.uri
        assert png.text["Thumb::MTime"] == str(int(original.path.stat().st_mtime))
        assert png.text["Thumb::Size"] == str(original.path.stat().st_size)
        assert png.text["Software"] == "Inspection Viewer"
    assert stat.S_IMODE(expected.stat().st_mode) == 0o600
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE(expected.parent.stat().st_mode) == 0o700


def test_text_chunks_are_plain_text_chunks(tmp_path: Path, original: OriginalFile) -> None:
    written = DiskThumbnailCache(tmp_path).store(original, decode_scaled(original.path, 128), 128)
    assert written is not None and written.parent.name == "normal"
    data = written.read_bytes()
    assert b"tEXtThumb::URI\x00" + original.uri.encode() in data
    assert data.index(b"tEXt") < data.index(b"IDAT")  # readable before the pixels
    assert read_png_text(data) is not None


def test_load_gives_back_the_thumbnail(tmp_path: Path, original: OriginalFile) -> None:
    cache = DiskThumbnailCache(tmp_path)
    cache.store(original, decode_scaled(original.path, 256), 256)
    image = cache.load(original, 256)
    assert image is not None and (image.width(), image.height()) == (256, 192)
    assert cache.load(original, 512) is None  # another flavour, not stored


def test_load_fits_the_stored_flavour_to_the_size_asked_for_smoothly(
    tmp_path: Path, original: OriginalFile
) -> None:
    """A 192 px grid reads the 256 px flavour: scaled while it is read (the reader lets other
    threads run meanwhile), as a smooth scaling of the stored thumbnail would (Qt 6.6 rounds
    some channels one level apart), not the blocky nearest-pixel one."""
    cache = DiskThumbnailCache(tmp_path)
    stored = decode_scaled(original.path, 256)
    cache.store(original, stored, 256)
    image = cache.load(original, 192)
    assert image is not None and (image.width(), image.height()) == (192, 144)
    smooth, fast = (
        stored.scaled(192, 192, Qt.AspectRatioMode.KeepAspectRatio, mode)
        for mode in (
            Qt.TransformationMode.SmoothTransformation,
            Qt.TransformationMode.FastTransformation,
        )
    )
    assert _largest_difference(image, smooth) <= 2
    assert _largest_difference(image, fast) > 2


def test_a_touched_original_makes_the_thumbnail_stale(
    tmp_path: Path, original: OriginalFile
) -> None:
    cache = DiskThumbnailCache(tmp_path)
    cache.store(original, decode_scaled(original.path, 256), 256)
    os.utime(original.path, (original.mtime + 60, original.mtime + 60))
    assert cache.load(OriginalFile.from_path(original.path), 256) is None


def test_a_rewrite_within_the_same_second_is_caught_by_the_size(
    tmp_path: Path, original: OriginalFile
) -> None:
    cache = DiskThumbnailCache(tmp_path)
    cache.store(original, decode_scaled(original.path, 256), 256)
    grown = OriginalFile(original.path, original.uri, original.mtime, original.size + 1)
    assert cache.load(grown, 256) is None


def test_a_damaged_thumbnail_is_ignored_quietly_and_replaced(
    tmp_path: Path, original: OriginalFile
) -> None:
    cache = DiskThumbnailCache(tmp_path)
    image = decode_scaled(original.path, 256)
    written = cache.store(original, image, 256)
    assert written is not None
    whole = written.read_bytes()
    written.write_bytes(whole[: len(whole) // 2])  # another program crashed mid-write
    assert cache.load(original, 256) is None  # and libpng was never asked (no Qt warning)
    written.write_bytes(whole[:60] + b"\x00" + whole[61:])  # a flipped byte: CRC mismatch
    assert cache.load(original, 256) is None
    cache.store(original, image, 256)
    assert cache.load(original, 256) is not None


def test_a_failing_rename_fault_injected_leaves_no_partial_file(
    tmp_path: Path, original: OriginalFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "thumbnails"
    cache = DiskThumbnailCache(root)
    image = decode_scaled(original.path, 256)
    first = cache.store(original, image, 256)
    assert first is not None
    before = first.read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    assert cache.store(original, decode_scaled(original.path, 200), 256) is None
    assert _files(root) == [first]
    assert first.read_bytes() == before


def test_an_unwritable_root_is_not_an_error(tmp_path: Path, original: OriginalFile) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    cache = DiskThumbnailCache(blocker / "thumbnails")
    assert cache.store(original, decode_scaled(original.path, 256), 256) is None
    assert cache.load(original, 256) is None


def test_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert app_thumbnail_root(tmp_path / "cache") == tmp_path / "cache" / "thumbnails"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert shared_thumbnail_root() == tmp_path / "xdg" / "thumbnails"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/invalid")
    assert shared_thumbnail_root() == Path.home() / ".cache" / "thumbnails"


def _largest_difference(a: QImage, b: QImage) -> int:
    """The largest difference of one colour channel between two images of one size."""
    pixels = [
        bytes(image.convertToFormat(QImage.Format.Format_RGB32).constBits()) for image in (a, b)
    ]
    return max(abs(x - y) for x, y in zip(*pixels, strict=True))
