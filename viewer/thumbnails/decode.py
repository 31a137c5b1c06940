"""Scaled decoding of an original photo into a QImage, in a worker thread; bad files raise."""

from __future__ import annotations

import contextlib
import errno
import math
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import shiboken6
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
from PySide6.QtGui import QImage, QImageReader

from db.storage import StorageError
from db.storage.base import Problem
from viewer.thumbnails.formats import (
    ErrorKind,
    PhotoFormat,
    ThumbnailError,
    check_pixels,
    fitted_size,
)
from viewer.thumbnails.headers import PhotoHeader, read_header
from viewer.thumbnails.heif import decode_heif, estimated_heif_bytes

__all__ = [
    "DEFAULT_MAX_DECODE_BYTES",
    "DEFAULT_MAX_FILE_BYTES",
    "DEFAULT_MAX_PIXELS",
    "ErrorKind",
    "ThumbnailError",
    "decode_bytes",
    "decode_scaled",
    "error_for_os_error",
    "error_for_storage",
    "estimated_decode_bytes",
    "image_reader",
    "read_original",
]

DEFAULT_MAX_PIXELS = 100_000_000
# Reading is done in one piece (the checks below need the whole file); this bounds that memory.
DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024
# The most memory one decode may need, by estimated_decode_bytes: a 99 MP photo with alpha
# (800 MB) decodes; 16-bit or float samples at that size are refused before decoding.
DEFAULT_MAX_DECODE_BYTES = 1024 * 1024 * 1024
# Besides the pixels: a decoder's own buffers (libwebp's were 0.4 MB on a 30 MP photo).
_DECODER_STATE_BYTES = 4 * 1024 * 1024
# Qt's own default allocation limit, in MB; raised per image to what it was allowed above.
_QT_ALLOCATION_LIMIT_MB = 256


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
    max_decode_bytes: int = DEFAULT_MAX_DECODE_BYTES,
) -> QImage:
    """The image at `path`, EXIF orientation applied, its long edge `size_px` (never upscaled).

    Thread-safe and GUI-free. Raises ThumbnailError for every bad file.
    """
    data = read_original(path, max_file_bytes)
    return decode_bytes(data, size_px, max_pixels, max_decode_bytes)


def decode_bytes(
    data: bytes,
    size_px: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_decode_bytes: int = DEFAULT_MAX_DECODE_BYTES,
) -> QImage:
    """decode_scaled on bytes already read: only a photo format reaches a decoder, by name,
    and only once its header says it fits our pixel and memory limits."""
    if size_px < 1:
        raise ValueError(f"thumbnail size must be at least 1 pixel, got {size_px}")
    if not data:
        raise ThumbnailError(ErrorKind.EMPTY, "Empty file (0 bytes)")
    header = read_header(data)
    if header.width:
        check_pixels(header.width, header.height, max_pixels)
    needed = _estimate(data, header, size_px, max_pixels)
    if needed > max_decode_bytes:
        raise ThumbnailError(
            ErrorKind.TOO_LARGE,
            f"Decoding needs about {needed / 1e6:.0f} MB of memory, over the "
            f"{max_decode_bytes / 1e6:.0f} MB limit",
        )
    if header.format is PhotoFormat.HEIF:
        return decode_heif(data, size_px, max_pixels)
    return _ready_to_paint(_decode_with_qt(data, header, size_px, max_pixels, needed))


@contextlib.contextmanager
def image_reader(data: bytes, image_format: PhotoFormat) -> Iterator[QImageReader]:
    """A QImageReader on a copy of `data` that reads `image_format` only and guesses nothing.

    Qt's TIFF handler touches its device while the reader is destroyed, and as locals of a
    function the three C++ objects died in any order (every TIFF crashed the app). Here they
    are deleted in order, the reader, its buffer, then the bytes, whatever Python references
    are left; using one afterwards raises RuntimeError instead of touching freed memory.
    """
    array = QByteArray(data)
    buffer = QBuffer(array)
    try:
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        reader = QImageReader(buffer, QByteArray(image_format.value.encode()))
        try:
            reader.setAutoDetectImageFormat(False)
            yield reader
        finally:
            shiboken6.delete(reader)
    finally:
        buffer.close()
        shiboken6.delete(buffer)
        shiboken6.delete(array)


def _decode_with_qt(
    data: bytes, header: PhotoHeader, size_px: int, max_pixels: int, needed: int
) -> QImage:
    label = header.format.label
    with image_reader(data, header.format) as reader:
        if not reader.canRead():
            raise _unreadable(header.format)
        stored = reader.size()
        if not stored.isValid() or stored.isEmpty():
            raise ThumbnailError(ErrorKind.CORRUPT, "Damaged image: its dimensions cannot be read")
        width, height = stored.width(), stored.height()
        check_pixels(width, height, max_pixels)
        # Qt refuses images over 256 MB by default and we called a valid 99 MP PNG damaged; our
        # own limits were checked on the header, and the service's memory budget counts it in.
        reader.setAllocationLimit(max(_QT_ALLOCATION_LIMIT_MB, math.ceil(needed / 2**20) + 1))
        target = fitted_size(width, height, size_px)
        if target != (width, height):
            # In stored (pre-rotation) coordinates; the long edge is the same either way. For
            # JPEG, libjpeg then decodes at a reduced size directly.
            reader.setScaledSize(QSize(*target))
        reader.setAutoTransform(True)
        image = reader.read()
        if image.isNull():
            reason = f"Damaged {label} image: {reader.errorString()}"
            raise ThumbnailError(ErrorKind.CORRUPT, reason)
    return image


def _unreadable(image_format: PhotoFormat) -> ThumbnailError:
    name = image_format.value.encode()
    if name not in {bytes(f.data()) for f in QImageReader.supportedImageFormats()}:
        return ThumbnailError(
            ErrorKind.UNSUPPORTED, f"{image_format.label} image: format not supported"
        )
    return ThumbnailError(
        ErrorKind.CORRUPT, f"Damaged {image_format.label} image: its header cannot be read"
    )


_PAINTABLE = frozenset(
    {
        QImage.Format.Format_RGB32,
        QImage.Format.Format_ARGB32,
        QImage.Format.Format_ARGB32_Premultiplied,
    }
)


def _ready_to_paint(image: QImage) -> QImage:
    """32-bit pixels, which QPainter draws without converting on every paint."""
    if image.format() in _PAINTABLE:
        return image
    alpha = image.hasAlphaChannel()
    return image.convertToFormat(
        QImage.Format.Format_ARGB32 if alpha else QImage.Format.Format_RGB32
    )


def estimated_decode_bytes(
    data: bytes, size_px: int | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
) -> int:
    """Peak memory of decode_bytes(data, size_px, max_pixels), from the header alone.

    The file and Qt's copy of it, plus the decoder's pixels: for every format but JPEG and
    HEIF the whole image whatever the thumbnail's size, 4 bytes a pixel, 8 where Qt makes a
    32-bit copy to scale it (grey, palette, alpha), 16 for 16-bit samples (PhotoHeader); a
    JPEG only at the reduced size libjpeg decodes at (plus every coefficient of a progressive
    one); a HEIF photo its embedded thumbnail when one will do. `size_px` None assumes no
    reduced decode. A file refused before decoding costs its bytes.
    """
    try:
        header = read_header(data)
    except ThumbnailError:
        return 2 * len(data)
    if header.width * header.height > max_pixels:
        return 2 * len(data)
    return _estimate(data, header, size_px, max_pixels)


def _estimate(data: bytes, header: PhotoHeader, size_px: int | None, max_pixels: int) -> int:
    held = 2 * len(data) + _DECODER_STATE_BYTES  # the file, and Qt's copy of it
    if header.format is PhotoFormat.HEIF:
        return held + estimated_heif_bytes(data, size_px, max_pixels)
    if not header.width:  # a size only its reader knows: the most we would decode
        return held + max_pixels * header.bytes_per_pixel
    width, height = header.width, header.height
    decoded_width, decoded_height = width, height
    output = 0
    if size_px is not None:
        target = fitted_size(width, height, size_px)
        output = 2 * target[0] * target[1] * 4  # the scaled image and its rotated copy
        if header.format is PhotoFormat.JPEG:
            decoded_width, decoded_height = _jpeg_decoded_size(width, height, target)
    pixels = decoded_width * decoded_height * header.bytes_per_pixel
    return held + pixels + header.coefficient_bytes + output


def _jpeg_decoded_size(width: int, height: int, target: tuple[int, int]) -> tuple[int, int]:
    """The size Qt asks libjpeg for: the smallest M/8 of the photo that covers the target."""
    factor = min(width / target[0], height / target[1])
    eighths = min(8, max(1, math.ceil(8 / factor)))
    return math.ceil(width * eighths / 8), math.ceil(height * eighths / 8)
