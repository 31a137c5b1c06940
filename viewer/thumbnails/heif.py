"""HEIC/HEIF photos (the iPhone's default) through pillow-heif: the embedded thumbnail first."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pillow_heif
from PIL import Image
from pillow_heif.as_plugin import HeifImageFile
from PySide6.QtGui import QImage

from viewer.thumbnails.formats import ErrorKind, ThumbnailError, check_pixels, fitted_size

# What pillow-heif documents for a file libheif cannot read.
_HEIF_ERRORS = (ValueError, EOFError, SyntaxError, RuntimeError, OSError)
# Measured peak of a full decode (libheif's planes, its RGB copy, Pillow's image): 7.5 bytes
# a pixel on a 12 MP photo.
HEIF_BYTES_PER_PIXEL = 8


def heif_error(exc: BaseException) -> ThumbnailError:
    # libheif says "Category: Subcategory: what happened"; the user needs the last part.
    message = (str(exc).strip() or type(exc).__name__).splitlines()[0].rsplit(": ", 1)[-1]
    lowered = str(exc).lower()
    if "security limit" in lowered or "memory" in lowered:
        return ThumbnailError(ErrorKind.TOO_LARGE, f"HEIC/HEIF image too large: {message}")
    if "unsupported" in lowered:
        return ThumbnailError(ErrorKind.UNSUPPORTED, f"HEIC/HEIF image not supported: {message}")
    return ThumbnailError(ErrorKind.CORRUPT, f"Damaged HEIC/HEIF image: {message}")


def _open(data: bytes) -> HeifImageFile:
    """The primary image, its header parsed, nothing decoded. Built directly rather than by
    Image.open: Pillow guesses no format, and no opener is registered for the whole process."""
    try:
        return HeifImageFile(io.BytesIO(data))  # type: ignore[no-untyped-call]
    except _HEIF_ERRORS as exc:
        raise heif_error(exc) from exc


@dataclass(frozen=True, slots=True)
class ScaledHeif:
    image: Image.Image  # displayed orientation, its long edge the size asked for at most
    decoded_size: tuple[int, int]  # what libheif decoded: the embedded thumbnail or the photo


def scaled_heif(data: bytes, size_px: int, max_pixels: int) -> ScaledHeif:
    """The photo scaled to `size_px`, from its embedded thumbnail when one will do.

    Sizes are the displayed ones: libheif applies the file's rotation and mirroring (irot and
    imir, where a camera's EXIF orientation goes in HEIF; the EXIF tag itself is ignored, as
    the HEIF standard says and pillow-heif does).
    """
    heif = _open(data)
    try:
        width, height = heif.size
        check_pixels(width, height, max_pixels)
        target = fitted_size(width, height, size_px)
        # pillow-heif picks the smallest embedded thumbnail that is a scaled copy of the photo
        # (same orientation, aspect ratio and crop) and at least `target`; else the photo.
        heif.draft(None, target)
        decoded_size = heif.size
        # Both decode first; a copy because the file object is closed below.
        if decoded_size == target:
            picture = heif.copy()
        else:
            picture = heif.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    except _HEIF_ERRORS as exc:
        raise heif_error(exc) from exc
    finally:
        heif.close()
    return ScaledHeif(picture, decoded_size)


def decode_heif(data: bytes, size_px: int, max_pixels: int) -> QImage:
    return to_qimage(scaled_heif(data, size_px, max_pixels).image)


def to_qimage(picture: Image.Image) -> QImage:
    """A QImage that owns its pixels: never a view on memory that Pillow or Python frees."""
    alpha = "A" in picture.getbands()
    picture = picture.convert("RGBA" if alpha else "RGB")
    raw = picture.tobytes()
    view = QImage(
        raw,
        picture.width,
        picture.height,
        picture.width * (4 if alpha else 3),
        QImage.Format.Format_RGBA8888 if alpha else QImage.Format.Format_RGB888,
    )
    # Converting to another format always allocates: the result owns a copy, `raw` may go.
    return view.convertToFormat(
        QImage.Format.Format_ARGB32 if alpha else QImage.Format.Format_RGB32
    )


def estimated_heif_bytes(data: bytes, size_px: int | None, max_pixels: int) -> int:
    """Peak decode memory by the header: the thumbnail that would be used, else the photo."""
    try:
        heif = pillow_heif.open_heif(data)
        primary = heif[heif.primary_index]
        width, height = primary.size
        if width * height > max_pixels:
            return 0  # refused before decoding
        decoded = width * height
        if size_px is not None:
            target_w, target_h = fitted_size(width, height, size_px)
            thumbnails = primary.info.get("thumbnails")
            for index in range(len(thumbnails) if isinstance(thumbnails, list) else 0):
                t_width, t_height = primary.get_thumbnail(index).size
                fits = t_width >= target_w and t_height >= target_h and t_width < width
                same_shape = abs(t_width * height - t_height * width) <= 2 * max(width, height)
                if fits and same_shape:
                    decoded = min(decoded, t_width * t_height)
    except _HEIF_ERRORS:
        return 0  # refused before decoding
    return decoded * HEIF_BYTES_PER_PIXEL
