"""What a photo file is, from its bytes alone: its format, its size and its damage.

Only photo formats go on to a decoder, each with its format named: a drawing (SVG), an icon or
anything unknown is refused here with the reason, before Qt or a C library sees one byte of it.
"""

from __future__ import annotations

import enum
import math
import struct
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class PhotoHeader:
    """The stored (pre-rotation) size read from the header; 0 x 0 where the decoder reads it
    itself (HEIF). `bytes_per_pixel` is that of Qt's full-size image (16-bit PNG: 8);
    `coefficient_bytes` is what a progressive JPEG decoder buffers whatever the output size."""

    format: PhotoFormat
    width: int = 0
    height: int = 0
    bytes_per_pixel: int = 4
    coefficient_bytes: int = 0


def _corrupt(reason: str) -> ThumbnailError:
    return ThumbnailError(ErrorKind.CORRUPT, reason)


def read_header(data: bytes) -> PhotoHeader:
    """The photo format and size of `data`; raises ThumbnailError for anything else, and
    CORRUPT for a photo whose structure is broken (so libjpeg and libpng never warn)."""
    kind = sniff(data)
    try:
        if kind is PhotoFormat.JPEG:
            return jpeg_header(data)
        if kind is PhotoFormat.PNG:
            return png_header(data)
        if kind is PhotoFormat.GIF:
            return _checked(kind, *struct.unpack_from("<HH", data, 6))
        if kind is PhotoFormat.WEBP:
            return _webp_header(data)
        if kind is PhotoFormat.BMP:
            return _bmp_header(data)
        if kind is PhotoFormat.TIFF:
            return _tiff_header(data)
    except struct.error:
        raise _corrupt(f"Truncated {kind.label}: the file ends inside its header") from None
    return PhotoHeader(kind)


def _checked(kind: PhotoFormat, width: int, height: int, bytes_per_pixel: int = 4) -> PhotoHeader:
    if width <= 0 or height <= 0:
        raise _corrupt(f"Damaged {kind.label} image: zero width or height")
    return PhotoHeader(kind, width, height, bytes_per_pixel)


# ISO base media files ("....ftyp" + brands): which brands are pictures.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_MIAF_BRANDS = frozenset({b"mif1", b"msf1", b"miaf"})  # either, by the compatible brands
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


# --- JPEG -----------------------------------------------------------------------------------

_JPEG_EOI = b"\xff\xd9"
# Start-of-frame markers: C0..CF except DHT (C4), JPG (C8) and DAC (CC).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_PROGRESSIVE = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
_JPEG_STANDALONE = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})
_JPEG_SOS = 0xDA


def jpeg_header(data: bytes) -> PhotoHeader:
    """Walk the header segments to the first scan, then require an end-of-image marker.

    libjpeg reports damage through qWarning (and would keep going, showing a half grey picture
    for a cut-off upload); checking the structure first lets us say "corrupt" quietly.
    """
    size = len(data)
    pos = 2
    frame: PhotoHeader | None = None
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
        if marker in _JPEG_SOF and frame is None:
            frame = _jpeg_frame(data[pos + 2 : pos + length], marker in _JPEG_PROGRESSIVE)
        pos += length
        if marker == _JPEG_SOS:
            break
    if frame is None:
        raise _corrupt("Damaged JPEG: image data before the frame header")
    # Entropy-coded data cannot contain FF D9 (a data byte FF is always followed by 00), so the
    # first one after the scan header is the end of the image; an upload cut short has none.
    # Data after it (camera trailers) is fine.
    if not data.endswith(_JPEG_EOI) and data.find(_JPEG_EOI, pos) < 0:
        raise _corrupt("Truncated JPEG: the image data stops early")
    return frame


def _jpeg_frame(body: bytes, progressive: bool) -> PhotoHeader:
    if len(body) < 6:
        raise _corrupt("Damaged JPEG: frame header too short")
    height, width, count = struct.unpack_from(">HHB", body, 1)
    if width == 0 or height == 0:
        raise _corrupt("Damaged JPEG: zero width or height")
    sampling = [body[7 + 3 * i] for i in range(count) if 7 + 3 * i < len(body)]
    coefficients = 0
    if progressive and sampling:
        # A progressive decoder keeps every DCT coefficient (64 x 2 bytes per 8x8 block).
        h_max = max(s >> 4 for s in sampling) or 1
        v_max = max(s & 15 for s in sampling) or 1
        for s in sampling:
            blocks_x = math.ceil(width * (s >> 4) / (h_max * 8))
            blocks_y = math.ceil(height * (s & 15) / (v_max * 8))
            coefficients += blocks_x * blocks_y * 128
    return PhotoHeader(PhotoFormat.JPEG, width, height, 4, coefficients)


# --- PNG ------------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_header(data: bytes) -> PhotoHeader:
    """IHDR first, then chunk lengths that chain to an IEND chunk at the very end."""
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise _corrupt("Damaged PNG: no image header")
    width, height, bit_depth = struct.unpack_from(">IIB", data, 16)
    size = len(data)
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= size:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        pos += 12 + length
        if kind == b"IEND":
            # Qt reads 16-bit PNGs into 64-bit pixels.
            return _checked(PhotoFormat.PNG, width, height, 8 if bit_depth == 16 else 4)
    raise _corrupt("Truncated PNG: the file ends before its last chunk")


# --- WebP, BMP, TIFF ------------------------------------------------------------------------


def _webp_header(data: bytes) -> PhotoHeader:
    chunk = data[12:16]
    if chunk == b"VP8X":
        low_w, high_w, low_h, high_h = struct.unpack_from("<HBHB", data, 24)
        width, height = low_w + (high_w << 16) + 1, low_h + (high_h << 16) + 1
    elif chunk == b"VP8L" and data[20:21] == b"\x2f":
        (bits,) = struct.unpack_from("<I", data, 21)
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = (v & 0x3FFF for v in struct.unpack_from("<HH", data, 26))
    else:
        raise _corrupt("Damaged WebP: no image header")
    return _checked(PhotoFormat.WEBP, width, height)


def _bmp_header(data: bytes) -> PhotoHeader:
    if _u32le(data, 14) == 12:
        width, height = struct.unpack_from("<HH", data, 18)
    else:
        width, height = struct.unpack_from("<ii", data, 18)
    return _checked(PhotoFormat.BMP, width, abs(height))


_TIFF_WIDTH, _TIFF_HEIGHT, _TIFF_BITS, _TIFF_SAMPLE_FORMAT = 256, 257, 258, 339
_TIFF_IEEE_FLOAT = 3


def _tiff_header(data: bytes) -> PhotoHeader:
    """Size and sample depth from the first IFD (the image Qt's TIFF reader shows)."""
    order = "<" if data.startswith(b"II") else ">"
    (offset,) = struct.unpack_from(order + "I", data, 4)
    if offset + 2 > len(data):
        raise _corrupt("Damaged TIFF: its directory is outside the file")
    (count,) = struct.unpack_from(order + "H", data, offset)
    tags: dict[int, int] = {}
    for entry in range(offset + 2, min(offset + 2 + 12 * count, len(data) - 11), 12):
        tag, kind, _ = struct.unpack_from(order + "HHI", data, entry)
        if tag in (_TIFF_WIDTH, _TIFF_HEIGHT, _TIFF_BITS, _TIFF_SAMPLE_FORMAT):
            tags[tag] = _tiff_first_value(data, order, entry, kind)
    if _TIFF_WIDTH not in tags or _TIFF_HEIGHT not in tags:
        raise _corrupt("Damaged TIFF: its size cannot be read")
    bits = tags.get(_TIFF_BITS, 1)
    if bits >= 32 and tags.get(_TIFF_SAMPLE_FORMAT) == _TIFF_IEEE_FLOAT:
        bytes_per_pixel = 16  # Qt reads 32-bit float samples into four floats a pixel
    else:
        bytes_per_pixel = 8 if bits >= 16 else 4
    return _checked(PhotoFormat.TIFF, tags[_TIFF_WIDTH], tags[_TIFF_HEIGHT], bytes_per_pixel)


def _tiff_first_value(data: bytes, order: str, entry: int, kind: int) -> int:
    """The first value of an IFD entry (SHORT or LONG); several SHORTs may live elsewhere."""
    (count,) = struct.unpack_from(order + "I", data, entry + 4)
    if kind == 3:
        where = entry + 8
        if count > 2:
            (where,) = struct.unpack_from(order + "I", data, entry + 8)
        if where + 2 > len(data):
            raise _corrupt("Damaged TIFF: a tag points outside the file")
        return int(struct.unpack_from(order + "H", data, where)[0])
    if kind == 4:
        return int(struct.unpack_from(order + "I", data, entry + 8)[0])
    raise _corrupt("Damaged TIFF: a size tag has the wrong type")


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
