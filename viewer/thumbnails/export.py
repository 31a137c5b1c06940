"""Thumbnails as files: 256 px PNGs for offline bundles, JPEGs for the team thumbnail tier."""

from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage, QImageWriter

from viewer.thumbnails.decode import ThumbnailError, decode_scaled

# The size of the bundle format's thumbnails/ entries (db.offline.THUMBNAIL_SIZE_PX, checked
# by a test; not imported: thumbnails know nothing of bundles).
BUNDLE_THUMBNAIL_PX = 256
TIER_JPEG_QUALITY = 82


def png_thumbnail(path: Path, size_px: int = BUNDLE_THUMBNAIL_PX) -> bytes | None:
    """The photo scaled to `size_px` on its long edge (EXIF orientation applied) as PNG, or None
    for a file that is not a decodable image. Thread-safe: the export calls it in its worker."""
    try:
        image = decode_scaled(path, size_px)
    except ThumbnailError:
        return None
    return png_bytes(image)


def png_bytes(image: QImage, quality: int = -1) -> bytes | None:
    """`image` as PNG."""
    return encoded_bytes(image, b"png", quality)


def jpeg_bytes(image: QImage, quality: int = TIER_JPEG_QUALITY) -> bytes | None:
    """`image` as JPEG (the team thumbnail tier's format: 10-30 KB at 256 px)."""
    return encoded_bytes(image, b"jpeg", quality)


def encoded_bytes(image: QImage, image_format: bytes, quality: int) -> bytes | None:
    """`image` in `image_format`. The writer, its buffer and the bytes are deleted in that
    order (as decode.image_reader does): a handler may touch its device while it is destroyed."""
    array = QByteArray()
    buffer = QBuffer(array)
    try:
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        writer = QImageWriter(buffer, QByteArray(image_format))
        try:
            writer.setQuality(quality)
            written = writer.write(image)
        finally:
            shiboken6.delete(writer)
        buffer.close()
        return bytes(array.data()) if written else None
    finally:
        shiboken6.delete(buffer)
        shiboken6.delete(array)
