"""The size of a photo and the memory its decode needs, read from its header without a decoder;
a photo whose structure is broken is CORRUPT here, so that libjpeg and libpng never warn."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from viewer.thumbnails.formats import (
    PNG_SIGNATURE,
    ErrorKind,
    PhotoFormat,
    ThumbnailError,
    sniff,
)


@dataclass(frozen=True, slots=True)
class PhotoHeader:
    """The stored (pre-rotation) size read from the header; 0 x 0 where the decoder reads it
    itself (HEIF). `bytes_per_pixel` is the peak of a whole decode and smooth scale by Qt,
    measured: the 32-bit image, and its 32-bit (premultiplied) copy where Qt makes one to
    scale (grey, palette, alpha) or 64-bit pixels (16-bit samples). `coefficient_bytes` is
    what a progressive JPEG decoder buffers whatever its output size."""

    format: PhotoFormat
    width: int = 0
    height: int = 0
    bytes_per_pixel: int = 4
    coefficient_bytes: int = 0


def _corrupt(reason: str) -> ThumbnailError:
    return ThumbnailError(ErrorKind.CORRUPT, reason)


def read_header(data: bytes) -> PhotoHeader:
    """The photo format and size of `data`; raises ThumbnailError for anything else."""
    kind = sniff(data)
    try:
        if kind is PhotoFormat.JPEG:
            return jpeg_header(data)
        if kind is PhotoFormat.PNG:
            return png_header(data)
        if kind is PhotoFormat.GIF:
            return _gif_header(data)
        if kind is PhotoFormat.WEBP:
            return _webp_header(data)
        if kind is PhotoFormat.BMP:
            return _bmp_header(data)
        if kind is PhotoFormat.TIFF:
            return _tiff_header(data)
    except struct.error:
        raise _corrupt(f"Truncated {kind.label}: the file ends inside its header") from None
    return PhotoHeader(kind)


# Peak bytes a pixel (see PhotoHeader): opaque 32-bit; converted to 32-bit (or premultiplied)
# before scaling; 16-bit samples (64-bit pixels, premultiplied copy); 32-bit float samples.
_OPAQUE, _CONVERTED, _DEEP, _FLOAT = 4, 8, 16, 32


def _checked(kind: PhotoFormat, width: int, height: int, bytes_per_pixel: int) -> PhotoHeader:
    if width <= 0 or height <= 0:
        raise _corrupt(f"Damaged {kind.label} image: zero width or height")
    return PhotoHeader(kind, width, height, bytes_per_pixel)


# ISO base media files ("....ftyp" + brands): which brands are pictures.
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
    return PhotoHeader(PhotoFormat.JPEG, width, height, _OPAQUE, coefficients)


# --- PNG ------------------------------------------------------------------------------------


def png_header(data: bytes) -> PhotoHeader:
    """IHDR first, then chunk lengths that chain to an IEND chunk at the very end."""
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise _corrupt("Damaged PNG: no image header")
    width, height, bit_depth, colour_type = struct.unpack_from(">IIBB", data, 16)
    size = len(data)
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= size:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        pos += 12 + length
        if kind == b"IEND":
            if bit_depth == 16:
                return _checked(PhotoFormat.PNG, width, height, _DEEP)
            opaque = colour_type == 2  # RGB; grey, palette and alpha are converted to scale
            return _checked(PhotoFormat.PNG, width, height, _OPAQUE if opaque else _CONVERTED)
    raise _corrupt("Truncated PNG: the file ends before its last chunk")


# --- WebP, BMP, TIFF ------------------------------------------------------------------------


def _webp_header(data: bytes) -> PhotoHeader:
    chunk = data[12:16]
    alpha = False
    if chunk == b"VP8X":
        flags, low_w, high_w, low_h, high_h = struct.unpack_from("<B3xHBHB", data, 20)
        width, height = low_w + (high_w << 16) + 1, low_h + (high_h << 16) + 1
        alpha = bool(flags & 0x10)
    elif chunk == b"VP8L" and data[20:21] == b"\x2f":
        (bits,) = struct.unpack_from("<I", data, 21)
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        alpha = bool(bits >> 28 & 1)
    elif chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = (v & 0x3FFF for v in struct.unpack_from("<HH", data, 26))
    else:
        raise _corrupt("Damaged WebP: no image header")
    # libwebp's lossless decoder holds half a byte a pixel more than the image (measured).
    return _checked(PhotoFormat.WEBP, width, height, _CONVERTED if alpha else _OPAQUE + 1)


def _gif_header(data: bytes) -> PhotoHeader:
    """An opaque first frame that covers the screen is read into 32-bit pixels and scaled as
    it is; a transparent one (or one smaller than the screen) gets a premultiplied copy."""
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)  # after the colour table
    opaque = True
    while pos < len(data) and data[pos] == 0x21:  # extensions before the first image
        if data[pos + 1 : pos + 3] == b"\xf9\x04" and data[pos + 3 : pos + 4]:
            opaque = opaque and not data[pos + 3] & 1  # the transparent-colour flag
        pos += 2
        while pos < len(data) and data[pos]:  # sub-blocks, up to the empty one
            pos += data[pos] + 1
        pos += 1
    if data[pos : pos + 1] != b"\x2c":
        raise _corrupt("Damaged GIF: no image after its header")
    frame = struct.unpack_from("<HHHH", data, pos + 1)
    opaque = opaque and frame == (0, 0, width, height)
    return _checked(PhotoFormat.GIF, width, height, _OPAQUE if opaque else _CONVERTED)


def _bmp_header(data: bytes) -> PhotoHeader:
    if int.from_bytes(data[14:18], "little") == 12:  # the old OS/2 header: 16-bit sizes
        width, height, _, bits = struct.unpack_from("<HHHH", data, 18)
    else:
        width, height, _, bits = struct.unpack_from("<iiHH", data, 18)
    return _checked(PhotoFormat.BMP, width, abs(height), _OPAQUE if bits == 24 else _CONVERTED)


_TIFF_WIDTH, _TIFF_HEIGHT, _TIFF_BITS, _TIFF_SAMPLES = 256, 257, 258, 277
_TIFF_SAMPLE_FORMAT = 339
_TIFF_TAGS = frozenset({_TIFF_WIDTH, _TIFF_HEIGHT, _TIFF_BITS, _TIFF_SAMPLES, _TIFF_SAMPLE_FORMAT})
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
        if tag in _TIFF_TAGS:
            tags[tag] = _tiff_first_value(data, order, entry, kind)
    if _TIFF_WIDTH not in tags or _TIFF_HEIGHT not in tags:
        raise _corrupt("Damaged TIFF: its size cannot be read")
    bits = tags.get(_TIFF_BITS, 1)
    if bits >= 32 and tags.get(_TIFF_SAMPLE_FORMAT) == _TIFF_IEEE_FLOAT:
        bytes_per_pixel = _FLOAT  # four floats a pixel, and a premultiplied copy
    elif bits >= 16:
        bytes_per_pixel = _DEEP
    else:
        bytes_per_pixel = _OPAQUE if tags.get(_TIFF_SAMPLES, 1) == 3 else _CONVERTED
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
