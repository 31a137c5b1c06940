"""Scaled decoding of an original photo into a QImage, in a worker thread; bad files raise."""

from __future__ import annotations

import enum
import errno
import os
import stat
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
from PySide6.QtGui import QImage, QImageReader

from db.errors import KnownError
from db.storage import StorageError
from db.storage.base import Problem

DEFAULT_MAX_PIXELS = 100_000_000
# Reading is done in one piece (the checks below need the whole file); this bounds that memory.
DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024


class ErrorKind(enum.StrEnum):
    """Why a thumbnail could not be made; the view picks the placeholder by it.

    NOT_IMAGE means the content was recognised as something else (text, PDF, archive, video);
    UNSUPPORTED means a picture format Qt has no reader for (HEIC, AVIF, JPEG XL...) and also
    content nobody recognised: it may well be an image, and the remedy is the same (convert it).
    """

    MISSING = "missing"
    EMPTY = "empty"
    CORRUPT = "corrupt"
    NOT_IMAGE = "not_image"
    UNSUPPORTED = "unsupported"
    TOO_LARGE = "too_large"
    UNREADABLE = "unreadable"
    # A bug in the pipeline, not a property of the file: logged with its traceback.
    INTERNAL = "internal"


class ThumbnailError(KnownError):
    """A file that cannot become a thumbnail; `reason` is short enough for a tooltip."""

    def __init__(self, kind: ErrorKind, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def error_for_os_error(exc: OSError) -> ThumbnailError:
    """The user's reading of an OSError met while opening or reading an original."""
    if isinstance(exc, FileNotFoundError) or exc.errno == errno.ENOTDIR:
        return ThumbnailError(ErrorKind.MISSING, "File not found")
    if isinstance(exc, IsADirectoryError):
        return ThumbnailError(ErrorKind.NOT_IMAGE, "A folder, not a file")
    if isinstance(exc, PermissionError):
        return ThumbnailError(ErrorKind.UNREADABLE, "Permission denied")
    return ThumbnailError(ErrorKind.UNREADABLE, f"Cannot read the file: {exc.strerror or exc}")


_PROBLEM_KINDS = {
    Problem.MISSING: ErrorKind.MISSING,
    Problem.FORBIDDEN: ErrorKind.UNREADABLE,
    Problem.UNREACHABLE: ErrorKind.UNREADABLE,
    Problem.DAMAGED: ErrorKind.CORRUPT,
    Problem.TOO_LARGE: ErrorKind.TOO_LARGE,
    Problem.READ_ONLY: ErrorKind.UNREADABLE,
}


def error_for_storage(exc: StorageError) -> ThumbnailError:
    """The placeholder's reading of a store's failure (the store classified it already)."""
    return ThumbnailError(_PROBLEM_KINDS.get(exc.problem, ErrorKind.UNREADABLE), exc.reason)


def read_original(path: Path, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> bytes:
    try:
        with path.open("rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ThumbnailError(ErrorKind.NOT_IMAGE, "Not a regular file")
            if info.st_size > max_file_bytes:
                raise ThumbnailError(
                    ErrorKind.TOO_LARGE,
                    f"File of {info.st_size / 1e6:.0f} MB is over the "
                    f"{max_file_bytes / 1e6:.0f} MB limit",
                )
            data = f.read()
    except OSError as exc:
        raise error_for_os_error(exc) from exc
    if not data:
        raise ThumbnailError(ErrorKind.EMPTY, "Empty file (0 bytes)")
    return data


def decode_scaled(
    path: Path,
    size_px: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> QImage:
    """The image at `path`, EXIF orientation applied, its long edge `size_px` (never upscaled).

    Thread-safe and GUI-free. Raises ThumbnailError for every bad file.
    """
    return decode_bytes(read_original(path, max_file_bytes), size_px, max_pixels)


def decode_bytes(data: bytes, size_px: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> QImage:
    if size_px < 1:
        raise ValueError(f"thumbnail size must be at least 1 pixel, got {size_px}")
    if not data:
        raise ThumbnailError(ErrorKind.EMPTY, "Empty file (0 bytes)")
    # libjpeg and libpng report damage through qWarning (and would keep going, showing a half
    # grey picture for a cut-off upload); checking the structure first lets us say "corrupt"
    # without them printing anything.
    if data.startswith(_JPEG_SOI):
        check_jpeg_structure(data)
    elif data.startswith(_PNG_SIGNATURE):
        check_png_structure(data)

    array = QByteArray(data)
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    # From a buffer, Qt picks the format by content alone: a PNG named .jpg still works.
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    if not reader.canRead():
        raise classify_unreadable(data)
    stored = reader.size()
    if not stored.isValid() or stored.isEmpty():
        raise ThumbnailError(ErrorKind.CORRUPT, "Damaged image: its dimensions cannot be read")
    width, height = stored.width(), stored.height()
    if width * height > max_pixels:
        raise ThumbnailError(
            ErrorKind.TOO_LARGE,
            f"{width}x{height} ({width * height / 1e6:.0f} MP) is over the "
            f"{max_pixels / 1e6:.0f} MP limit",
        )
    long_edge = max(width, height)
    if long_edge > size_px:
        # The scaled size is in stored (pre-rotation) coordinates; the long edge is the same
        # either way. For JPEG, libjpeg then decodes at 1/2, 1/4 or 1/8 scale directly.
        scale = size_px / long_edge
        reader.setScaledSize(QSize(max(1, round(width * scale)), max(1, round(height * scale))))
    image = reader.read()
    if image.isNull():
        raise ThumbnailError(ErrorKind.CORRUPT, f"Damaged image: {reader.errorString()}")
    return image


_JPEG_SOI = b"\xff\xd8"
_JPEG_EOI = b"\xff\xd9"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
# Start-of-frame markers: C0..CF except DHT (C4), JPG (C8) and DAC (CC).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})
_JPEG_SOS = 0xDA


def _corrupt(reason: str) -> ThumbnailError:
    return ThumbnailError(ErrorKind.CORRUPT, reason)


def check_jpeg_structure(data: bytes) -> None:
    """Walk the header segments to the first scan, then require an end-of-image marker."""
    size = len(data)
    pos = 2
    seen_frame = False
    while True:
        if pos >= size:
            raise _corrupt("Truncated JPEG: the file ends inside its header")
        if data[pos] != 0xFF:
            raise _corrupt(f"Damaged JPEG: no segment marker at byte {pos}")
        while pos < size and data[pos] == 0xFF:  # fill bytes are allowed before a marker
            pos += 1
        if pos >= size:
            raise _corrupt("Truncated JPEG: the file ends inside its header")
        marker = data[pos]
        pos += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (0x00, 0xD9):
            raise _corrupt("Damaged JPEG: no image data")
        if pos + 2 > size:
            raise _corrupt("Truncated JPEG: the file ends inside its header")
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > size:
            raise _corrupt("Truncated JPEG: the file ends inside its header")
        if marker in _JPEG_SOF:
            if length < 8:
                raise _corrupt("Damaged JPEG: frame header too short")
            height = int.from_bytes(data[pos + 3 : pos + 5], "big")
            width = int.from_bytes(data[pos + 5 : pos + 7], "big")
            if width == 0 or height == 0:
                raise _corrupt("Damaged JPEG: zero width or height")
            seen_frame = True
        pos += length
        if marker == _JPEG_SOS:
            if not seen_frame:
                raise _corrupt("Damaged JPEG: image data before the frame header")
            break
    # Entropy-coded data cannot contain FF D9 (a data byte FF is always followed by 00), so the
    # first one after the scan header is the end of the image; an upload cut short has none.
    # Data after it (camera trailers) is fine.
    if not data.endswith(_JPEG_EOI) and data.find(_JPEG_EOI, pos) < 0:
        raise _corrupt("Truncated JPEG: the image data stops early")


def check_png_structure(data: bytes) -> None:
    """Chunk lengths must chain from the signature to an IEND chunk at the very end."""
    size = len(data)
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= size:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        pos += 12 + length
        if kind == b"IEND":
            return
    raise _corrupt("Truncated PNG: the file ends before its last chunk")


# ISO base media files ("....ftyp" + brand): which brands are pictures Qt cannot read.
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"8BPS", "Photoshop (PSD)"),
    (b"v/1\x01", "OpenEXR"),
    (b"qoif", "QOI"),
    (b"FUJIFILMCCD-RAW", "Fujifilm RAW"),
)
_OTHER_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "an archive or office document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "a program"),
    (b"ID3", "an audio file"),
    (b"OggS", "an audio or video file"),
    (b"\x1a\x45\xdf\xa3", "a video file"),
)


def classify_unreadable(data: bytes) -> ThumbnailError:
    """Content Qt has no reader for: an image format we know of, or something else."""
    head = data[:64]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return ThumbnailError(ErrorKind.UNSUPPORTED, "HEIC/HEIF photo: format not supported")
        if brand in _AVIF_BRANDS:
            return ThumbnailError(ErrorKind.UNSUPPORTED, "AVIF image: format not supported")
        return ThumbnailError(ErrorKind.NOT_IMAGE, "A video or media file, not an image")
    for signature, name in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return ThumbnailError(ErrorKind.UNSUPPORTED, f"{name} image: format not supported")
    for signature, name in _OTHER_SIGNATURES:
        if head.startswith(signature):
            return ThumbnailError(ErrorKind.NOT_IMAGE, f"Not an image: {name}")
    if _looks_like_text(data[:4096]):
        return ThumbnailError(ErrorKind.NOT_IMAGE, "Not an image: a text file")
    return ThumbnailError(
        ErrorKind.UNSUPPORTED, f"Unknown file format (starts with {head[:4].hex(' ')})"
    )


_TEXT_CONTROLS = frozenset(b"\t\n\r\f\b\x1b")


def _looks_like_text(sample: bytes) -> bool:
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A character cut by the sample's end is still text.
        if exc.start < len(sample) - 3:
            return False
    controls = sum(1 for b in sample if b < 0x20 and b not in _TEXT_CONTROLS)
    return controls <= len(sample) // 100
