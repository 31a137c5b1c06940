"""What a photo file is, from its first bytes: one of the photo formats, or refused with a reason.

Only photo formats go on to a decoder, each with its format named: a drawing (SVG), an icon or
anything unknown is refused here with the reason, before Qt or a C library sees one byte of it.
"""

from __future__ import annotations

import enum

from db.errors import KnownError


class ErrorKind(enum.StrEnum):
    """Why a thumbnail could not be made; the view picks the placeholder by it.

    NOT_IMAGE means the content was recognised as something else (text, PDF, archive, video);
    UNSUPPORTED means a picture that is not a photo format we decode (SVG, icons, JPEG XL...)
    and also content nobody recognised: it may well be an image, and the remedy is the same
    (convert it).
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


class PhotoFormat(enum.StrEnum):
    """The formats a photo can be; the value is the name Qt's image plugin goes by."""

    JPEG = "jpeg"
    PNG = "png"
    GIF = "gif"
    WEBP = "webp"
    BMP = "bmp"
    TIFF = "tiff"
    HEIF = "heif"  # decoded by pillow-heif, not Qt
    AVIF = "avif"  # only where Qt has a reader for it

    @property
    def label(self) -> str:
        return _LABELS.get(self, self.name)


_LABELS = {PhotoFormat.WEBP: "WebP", PhotoFormat.HEIF: "HEIC/HEIF"}


_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_MIAF_BRANDS = frozenset({b"mif1", b"msf1", b"miaf"})  # either, by the compatible brands
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_BMP_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


def sniff(data: bytes) -> PhotoFormat:
    """The photo format by its magic bytes; anything else raises with what it seems to be."""
    if data.startswith(b"\xff\xd8"):  # FF D8 alone: a damaged JPEG is still a JPEG
        return PhotoFormat.JPEG
    if data.startswith(PNG_SIGNATURE):
        return PhotoFormat.PNG
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return PhotoFormat.GIF
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return PhotoFormat.WEBP
    if data.startswith(b"BM") and len(data) >= 26 and _u32le(data, 14) in _BMP_HEADER_SIZES:
        return PhotoFormat.BMP
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return PhotoFormat.TIFF
    if data[4:8] == b"ftyp":
        brand = _iso_brand(data)
        if brand is not None:
            return brand
    raise refusal(data)


def _iso_brand(data: bytes) -> PhotoFormat | None:
    size = min(int.from_bytes(data[:4], "big"), 256, len(data))
    brands = [data[8:12]] + [data[i : i + 4] for i in range(16, size - 3, 4)]
    if brands[0] in _AVIF_BRANDS or (brands[0] in _MIAF_BRANDS and _AVIF_BRANDS & {*brands}):
        return PhotoFormat.AVIF
    if brands[0] in _HEIF_BRANDS or brands[0] in _MIAF_BRANDS:
        return PhotoFormat.HEIF
    return None


# Image formats that are not photos, or not ones we decode: refused, never guessed at.
_IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL image: format not supported"),
    (b"\xff\x0a", "JPEG XL image: format not supported"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000 image: format not supported"),
    (b"\xff\x4f\xff\x51", "JPEG 2000 image: format not supported"),
    (b"8BPS", "Photoshop (PSD) image: format not supported"),
    (b"v/1\x01", "OpenEXR image: format not supported"),
    (b"qoif", "QOI image: format not supported"),
    (b"FUJIFILMCCD-RAW", "Fujifilm RAW image: format not supported"),
    (b"II+\x00", "BigTIFF image: format not supported"),
    (b"MM\x00+", "BigTIFF image: format not supported"),
    (b"icns", "An icon (ICNS), not a photo"),
    (b"/* XPM */", "An XPM drawing, not a photo"),
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
    (b"RIFF", "an audio or video file"),
    (b"\x1a\x45\xdf\xa3", "a video file"),
)
_ICON_SIGNATURES = {
    b"\x00\x00\x01\x00": "An icon (ICO), not a photo",
    b"\x00\x00\x02\x00": "A cursor (CUR), not a photo",
}
_NETPBM = frozenset(b"1234567")
_TGA_FOOTER = b"TRUEVISION-XFILE.\x00"


def refusal(data: bytes) -> ThumbnailError:
    """Content that is no photo format: an image of another kind, something else, or unknown."""
    head = data[:64]
    if head[4:8] == b"ftyp":
        return ThumbnailError(ErrorKind.NOT_IMAGE, "A video or media file, not an image")
    for signature, reason in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return ThumbnailError(ErrorKind.UNSUPPORTED, reason)
    if data.endswith(_TGA_FOOTER):
        return ThumbnailError(ErrorKind.UNSUPPORTED, "A TGA image, not a photo format")
    if head[:4] in _ICON_SIGNATURES and head[4:6] != b"\x00\x00":  # and a count of images
        return ThumbnailError(ErrorKind.UNSUPPORTED, _ICON_SIGNATURES[head[:4]])
    if head[:1] == b"P" and head[1:2] and head[1] in _NETPBM and head[2:3].isspace():
        return ThumbnailError(ErrorKind.UNSUPPORTED, "A PBM/PGM/PPM image, not a photo format")
    for signature, name in _OTHER_SIGNATURES:
        if head.startswith(signature):
            return ThumbnailError(ErrorKind.NOT_IMAGE, f"Not an image: {name}")
    sample = data[:4096]
    if _looks_like_text(sample):
        lowered = sample.lower()
        if b"<svg" in lowered:
            return ThumbnailError(ErrorKind.UNSUPPORTED, "SVG drawings are not photos")
        if lowered.startswith(b"#define ") and b"_width " in lowered:
            return ThumbnailError(ErrorKind.UNSUPPORTED, "An XBM drawing, not a photo")
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


def _u32le(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 4], "little")


# --- limits and sizes -----------------------------------------------------------------------


def check_pixels(width: int, height: int, max_pixels: int) -> None:
    """Our own pixel limit, checked on the header before anything is decoded."""
    if width * height > max_pixels:
        raise ThumbnailError(
            ErrorKind.TOO_LARGE,
            f"{width}x{height} ({width * height / 1e6:.0f} MP) is over the "
            f"{max_pixels / 1e6:.0f} MP limit",
        )


def fitted_size(width: int, height: int, size_px: int) -> tuple[int, int]:
    """`width` x `height` with its long edge `size_px`, never upscaled."""
    long_edge = max(width, height)
    if long_edge <= size_px:
        return width, height
    scale = size_px / long_edge
    return max(1, round(width * scale)), max(1, round(height * scale))
