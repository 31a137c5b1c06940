"""Native decoders never take the process down: every format Qt reads, written by Pillow and by
Qt itself, the TIFFs that crashed every start, and a 2 KB SVG that hung the app, each decoded
(and made into a bundle PNG) in a child process, where a crash or a hang fails the test.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtGui import QColor, QImage, QImageReader, QImageWriter

from tests.fixtures_images import ChildDecode, decode_in_child
from viewer.thumbnails.decode import image_reader
from viewer.thumbnails.formats import PhotoFormat

WIDTH, HEIGHT, SIZE_PX = 96, 64, 48
EXPECTED_SIZE = (48, 32)


def _names(formats: list[object]) -> set[str]:
    return {bytes(f.data()).decode() for f in formats}  # type: ignore[attr-defined]


QT_READS = sorted(_names(QImageReader.supportedImageFormats()))
QT_WRITES = _names(QImageWriter.supportedImageFormats())
# Qt's format name -> Pillow's writer and the mode it wants.
PILLOW_WRITES: dict[str, tuple[str, str]] = {
    "bmp": ("BMP", "RGB"),
    "gif": ("GIF", "RGB"),
    "icns": ("ICNS", "RGBA"),
    "ico": ("ICO", "RGBA"),
    "jfif": ("JPEG", "RGB"),
    "jpeg": ("JPEG", "RGB"),
    "jpg": ("JPEG", "RGB"),
    "pbm": ("PPM", "1"),
    "pgm": ("PPM", "L"),
    "ppm": ("PPM", "RGB"),
    "png": ("PNG", "RGB"),
    "tga": ("TGA", "RGB"),
    "tif": ("TIFF", "RGB"),
    "tiff": ("TIFF", "RGB"),
    "webp": ("WEBP", "RGB"),
    "xbm": ("XBM", "1"),
}
# The names Qt reads a photo format by: these must decode, everything else must be refused.
PHOTO_NAMES = {"bmp", "gif", "jfif", "jpeg", "jpg", "png", "tif", "tiff", "webp"}
PHOTO_NAMES |= {name for name in ("avif", "heic", "heif") if name in QT_READS}


def _cases() -> list[tuple[str, str]]:
    cases = []
    for name in QT_READS:
        if name in PILLOW_WRITES:
            cases.append((name, "pillow"))
        if name in QT_WRITES:
            cases.append((name, "qt"))
    return cases


CASES = _cases()


def _write(folder: Path, name: str, writer: str) -> Path:
    path = folder / f"{writer}.{name}"
    if writer == "pillow":
        pillow_format, mode = PILLOW_WRITES[name]
        image = Image.new("RGB", (WIDTH, HEIGHT), (40, 90, 200))
        image.paste((230, 20, 20), (0, 0, WIDTH // 4, HEIGHT // 4))
        image.convert(mode).save(path, pillow_format)
    else:
        image = QImage(WIDTH, HEIGHT, QImage.Format.Format_RGB32)
        image.fill(QColor(40, 90, 200))
        writer_ = QImageWriter(str(path), name.encode())
        assert writer_.write(image), writer_.errorString()
        del writer_
    return path


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], ChildDecode]:
    folder = tmp_path_factory.mktemp("every-format")
    paths = {case: _write(folder, *case) for case in CASES}
    by_path = decode_in_child(paths.values(), SIZE_PX)
    return {case: by_path[path] for case, path in paths.items()}


def test_every_format_qt_reads_is_written_by_someone() -> None:
    """A Qt plugin nobody here can write would go untested; SVG has its own test below."""
    written = {name for name, _ in CASES}
    assert set(QT_READS) - written <= {"svg", "svgz"}


@pytest.mark.parametrize(("name", "writer"), CASES, ids=[f"{n}-{w}" for n, w in CASES])
def test_each_format_decodes_or_is_refused_in_a_child_without_crashing(
    outcomes: dict[tuple[str, str], ChildDecode], name: str, writer: str
) -> None:
    outcome = outcomes[name, writer]
    assert not outcome.died, outcome.died
    assert outcome.estimate > 0
    if name in PHOTO_NAMES:
        assert outcome.size == EXPECTED_SIZE, outcome.reason
        assert outcome.png is not None
        with Image.open(outcome.png) as png:
            assert (png.format, png.size) == ("PNG", EXPECTED_SIZE)
    else:
        # Icons, cursors, PBM/PGM/PPM, TGA, WBMP, XBM, XPM: pictures, not photos.
        assert outcome.kind == "unsupported", outcome
        assert outcome.reason
        assert outcome.png is None


@pytest.mark.parametrize("compression", [None, "tiff_lzw"])
def test_the_tiffs_that_crashed_every_start_decode_in_a_child(
    tmp_path: Path, compression: str | None
) -> None:
    """Issue #12: an 800x600 TIFF written by Pillow, plain or LZW, was a SIGSEGV."""
    path = tmp_path / "x.tiff"
    Image.new("RGB", (800, 600)).save(path, compression=compression)
    outcome = decode_in_child([path], 256)[path]
    assert not outcome.died, outcome.died
    assert outcome.size == (256, 192)
    assert outcome.png is not None


def _nested_use_svg(levels: int = 10, fan_out: int = 10) -> bytes:
    """Billion laughs with <use>: each group uses the one below ten times, 10^10 rectangles."""
    groups = ['<g id="l0"><rect width="1" height="1"/></g>']
    for level in range(1, levels):
        uses = "".join(f'<use href="#l{level - 1}"/>' for _ in range(fan_out))
        groups.append(f'<g id="l{level}">{uses}</g>')
    return (
        '<?xml version="1.0"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300">'
        f'<defs>{"".join(groups)}</defs><use href="#l{levels - 1}"/></svg>\n'
    ).encode()


def test_a_nested_use_svg_is_refused_quickly_in_a_child(tmp_path: Path) -> None:
    """Issue #12: QImageReader.size() never returned on this 2 KB file, holding the GIL. It
    is refused by its content, whatever its name; the child's timeout only catches a hang."""
    svg = _nested_use_svg()
    assert len(svg) < 3000
    paths = [tmp_path / "drawing.svg", tmp_path / "named-like-a-photo.jpg"]
    compressed = tmp_path / "drawing.svgz"
    for path in paths:
        path.write_bytes(svg)
    compressed.write_bytes(gzip.compress(svg))
    outcomes = decode_in_child([*paths, compressed], 256, timeout_s=60)
    for path in paths:
        assert not outcomes[path].died, outcomes[path].died
        assert outcomes[path].kind == "unsupported"
        assert outcomes[path].reason == "SVG drawings are not photos"
        assert outcomes[path].png is None
    assert (outcomes[compressed].kind, outcomes[compressed].died) == ("not_image", "")


def test_the_reader_and_its_buffer_are_gone_when_the_block_ends(tmp_path: Path) -> None:
    """The C++ objects are deleted in order, not left to the garbage collector's."""
    path = tmp_path / "x.tiff"
    Image.new("RGB", (80, 60)).save(path)
    with image_reader(path.read_bytes(), PhotoFormat.TIFF) as reader:
        assert reader.size().width() == 80
        image = reader.read()
    with pytest.raises(RuntimeError):
        reader.size()
    assert (image.width(), image.height()) == (80, 60)


def test_the_reader_reads_the_format_it_is_given_and_guesses_nothing(tmp_path: Path) -> None:
    png = tmp_path / "p.png"
    Image.new("RGB", (8, 8)).save(png)
    with image_reader(png.read_bytes(), PhotoFormat.JPEG) as reader:
        assert not reader.canRead()
