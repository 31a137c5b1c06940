"""Thumbnails kept on disk between launches, laid out as the freedesktop.org thumbnail standard."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import struct
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage

from db.files import write_atomic
from viewer.thumbnails.decode import image_reader
from viewer.thumbnails.export import png_bytes
from viewer.thumbnails.formats import PhotoFormat, fitted_size

log = logging.getLogger(__name__)

SOFTWARE = "Inspection Viewer"
KEY_URI = "Thumb::URI"
KEY_MTIME = "Thumb::MTime"
KEY_SIZE = "Thumb::Size"
KEY_SOFTWARE = "Software"
# QImageWriter's PNG "quality" 80 is zlib level 1: measured on a 256 px photo thumbnail, a
# third of the default level's time for a file a fifth larger.
PNG_QUALITY = 80

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Left unescaped in a path (RFC 3986 sub-delims, ":" and "@"), as QUrl.fromLocalFile() with
# FullyEncoded does: one canonical URI per file, so one MD5, in the shared folder too.
_URI_SAFE = "/!$&'()*+,;=:@"


@dataclass(frozen=True, slots=True)
class Flavour:
    """A size folder of the standard: thumbnails fit a square of `size_px`."""

    name: str
    size_px: int


FLAVOURS: tuple[Flavour, ...] = (
    Flavour("normal", 128),
    Flavour("large", 256),
    Flavour("x-large", 512),
    Flavour("xx-large", 1024),
)


def flavour_for(size_px: int) -> Flavour | None:
    """The smallest flavour at least `size_px`; None above 1024 px, which is not disk-cached
    (the standard stops there, and a view that big is better served by the original)."""
    for flavour in FLAVOURS:
        if flavour.size_px >= size_px:
            return flavour
    return None


def file_uri(path: Path) -> str:
    """The canonical file:// URI of an absolute path (percent-encoded UTF-8 bytes)."""
    return "file://" + quote(os.fsencode(path.absolute()), safe=_URI_SAFE)


def thumbnail_name(uri: str) -> str:
    return hashlib.md5(uri.encode("ascii"), usedforsecurity=False).hexdigest() + ".png"


def shared_thumbnail_root() -> Path:
    """$XDG_CACHE_HOME/thumbnails, the folder file managers share (the standard's location)."""
    cache_home = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative value is invalid and must be ignored.
    base = Path(cache_home) if os.path.isabs(cache_home) else Path.home() / ".cache"
    return base / "thumbnails"


def app_thumbnail_root(cache_dir: Path) -> Path:
    """The default: a private thumbnails folder under the app's cache dir (AppPaths.cache_dir)."""
    return cache_dir / "thumbnails"


@dataclass(frozen=True, slots=True)
class OriginalFile:
    """What a thumbnail records about its original, to tell later whether it is still valid."""

    path: Path
    uri: str
    mtime: int
    size: int

    @classmethod
    def from_path(cls, path: Path) -> OriginalFile:
        """Raises OSError as os.stat does."""
        path = path.absolute()
        info = path.stat()
        return cls(path=path, uri=file_uri(path), mtime=int(info.st_mtime), size=info.st_size)


class DiskThumbnailCache:
    """PNG thumbnails under `root`/<flavour>/<md5 of the original's URI>.png.

    Thread-safe: workers call load() and store() concurrently. A thumbnail is valid while its
    Thumb::URI, Thumb::MTime (and Thumb::Size when present) match the original; otherwise it is
    ignored and the next store() replaces it.
    """

    def __init__(self, root: Path, software: str = SOFTWARE) -> None:
        self.root = root
        self.software = software
        self._prepared: set[Path] = set()
        self._prepare_lock = threading.Lock()

    def path_for(self, original: OriginalFile, flavour: Flavour) -> Path:
        return self.root / flavour.name / thumbnail_name(original.uri)

    def load(self, original: OriginalFile, size_px: int) -> QImage | None:
        """The stored thumbnail for `size_px`'s flavour, or None if absent, stale or damaged."""
        flavour = flavour_for(size_px)
        if flavour is None:
            return None
        path = self.path_for(original, flavour)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        text = read_png_text(data)
        if text is None:
            log.debug("damaged thumbnail %s ignored", path)
            return None
        if not _matches(text, original):
            return None
        return read_png(data, size_px)

    def store(self, original: OriginalFile, image: QImage, size_px: int) -> Path | None:
        """Write `image` (already scaled) as the flavour's thumbnail, atomically.

        Returns the file, or None if not written (no flavour for that size, or the folder is not
        writable: the disk cache is an optimisation, so that is logged, not raised).
        """
        flavour = flavour_for(size_px)
        if flavour is None or image.isNull():
            return None
        if max(image.width(), image.height()) > flavour.size_px:
            image = image.scaled(
                flavour.size_px,
                flavour.size_px,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        target = self.path_for(original, flavour)
        try:
            blob = encode_png(
                image,
                {
                    KEY_URI: original.uri,
                    KEY_MTIME: str(original.mtime),
                    KEY_SIZE: str(original.size),
                    KEY_SOFTWARE: self.software,
                },
            )
            self._prepare(target.parent)
            write_atomic(target, blob)
        except OSError as exc:
            log.warning("cannot write thumbnail %s: %s", target, exc)
            return None
        return target

    def _prepare(self, folder: Path) -> None:
        if folder in self._prepared:
            return
        with self._prepare_lock:
            # The standard wants 0700 folders: a thumbnail must not show others a private photo.
            for path in (self.root, folder):
                path.mkdir(mode=0o700, parents=True, exist_ok=True)
                if path.stat().st_mode & 0o777 != 0o700:
                    path.chmod(0o700)
            self._prepared.add(folder)


def _matches(text: dict[str, str], original: OriginalFile) -> bool:
    if text.get(KEY_URI) != original.uri:
        return False  # an MD5 collision, or a thumbnail of another file copied here
    try:
        if int(text.get(KEY_MTIME, "")) != original.mtime:
            return False
        size = text.get(KEY_SIZE)
        # Optional in the standard; when there, it also catches a rewrite within the same second.
        return size is None or int(size) == original.size
    except ValueError:
        return False


def read_png(data: bytes, size_px: int) -> QImage | None:
    """A stored thumbnail decoded and fitted to `size_px` in one QImageReader.read(), or None.

    Not QImage.loadFromData() and then QImage.scaled(): PySide6 holds the GIL through both (and
    through every QImage scaling call) but releases it in QImageReader.read(). Measured with two
    threads loading this cache's PNGs: a GUI-like loop on the main thread kept 5% of its speed
    with loadFromData, 47% with it and the scaling, and 90-100% with the reader.
    """
    with image_reader(data, PhotoFormat.PNG) as reader:
        stored = reader.size()
        if not stored.isValid() or stored.isEmpty():
            return None
        width, height = fitted_size(stored.width(), stored.height(), size_px)
        if (width, height) != (stored.width(), stored.height()):
            reader.setScaledSize(QSize(width, height))
        image = reader.read()
    return None if image.isNull() else image


def encode_png(image: QImage, text: dict[str, str]) -> bytes:
    """PNG bytes of `image` with `text` as tEXt chunks.

    Qt stores long values as compressed zTXt; the standard's readers expect tEXt, so the chunks
    are written here. An opaque image is stored as RGB, not the RGBA the standard describes:
    PNG readers take both, and it is a quarter less to compress (this runs per thumbnail).
    """
    if image.hasAlphaChannel():
        image = image.convertToFormat(QImage.Format.Format_ARGB32)
    elif image.format() != QImage.Format.Format_RGB32:
        image = image.convertToFormat(QImage.Format.Format_RGB32)
    png = png_bytes(image, PNG_QUALITY)  # the writer's C++ lifetimes kept in order there
    if png is None:
        raise OSError("PNG encoding failed")
    # IHDR is always the first chunk: 8 signature bytes + 4 length + 4 type + 13 data + 4 CRC.
    ihdr_end = len(_PNG_SIGNATURE) + 25
    chunks = b"".join(_text_chunk(key, value) for key, value in text.items())
    return png[:ihdr_end] + chunks + png[ihdr_end:]


def _text_chunk(key: str, value: str) -> bytes:
    body = key.encode("latin-1") + b"\x00" + value.encode("latin-1", "replace")
    return (
        struct.pack(">I", len(body))
        + b"tEXt"
        + body
        + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    )


def read_png_text(data: bytes) -> dict[str, str] | None:
    """The text chunks (tEXt, zTXt, iTXt) of a complete, undamaged PNG; None otherwise.

    Every chunk's CRC is checked and an IEND must end the file, so the PNG decoder is only ever
    given files it will not complain about (its complaints are Qt warnings).
    """
    if not data.startswith(_PNG_SIGNATURE):
        return None
    text: dict[str, str] = {}
    pos = len(_PNG_SIGNATURE)
    size = len(data)
    while pos + 12 <= size:
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        body_end = pos + 8 + length
        if body_end + 4 > size:
            return None
        body = data[pos + 8 : body_end]
        (crc,) = struct.unpack_from(">I", data, body_end)
        if zlib.crc32(kind + body) != crc:
            return None
        pos = body_end + 4
        if kind == b"IEND":
            return text if pos == size else None
        with contextlib.suppress(ValueError, zlib.error):
            entry = _parse_text_chunk(kind, body)
            if entry is not None:
                text[entry[0]] = entry[1]
    return None


def _parse_text_chunk(kind: bytes, body: bytes) -> tuple[str, str] | None:
    if kind == b"tEXt":
        key, _, value = body.partition(b"\x00")
        return key.decode("latin-1"), value.decode("latin-1")
    if kind == b"zTXt":
        key, _, rest = body.partition(b"\x00")
        return key.decode("latin-1"), zlib.decompress(rest[1:]).decode("latin-1")
    if kind == b"iTXt":
        key, _, rest = body.partition(b"\x00")
        compressed, rest = rest[0], rest[2:]
        _language, _, rest = rest.partition(b"\x00")
        _translated, _, value = rest.partition(b"\x00")
        if compressed:
            value = zlib.decompress(value)
        return key.decode("latin-1"), value.decode("utf-8")
    return None
