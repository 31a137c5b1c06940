"""Real image files for the thumbnail tests, bad ones included, and a look at worker threads."""

from __future__ import annotations

import random
import struct
import threading
import zlib
from pathlib import Path

from PIL import Image

from viewer.thumbnails.decode import ErrorKind
from viewer.thumbnails.service import WORKER_THREAD_PREFIX

EXIF_ORIENTATION = 0x0112
MARKER_RGB = (230, 20, 20)


def write_jpeg(
    path: Path,
    width: int,
    height: int,
    *,
    orientation: int | None = None,
    quality: int = 85,
    seed: int = 0,
) -> Path:
    """A JPEG with a gradient, some noise and a red block in the stored top-left corner (so a
    test can tell where EXIF rotation put it)."""
    rng = random.Random(seed)
    base = (rng.randrange(40, 200), rng.randrange(40, 200), rng.randrange(40, 200))
    image = Image.new("RGB", (width, height), base)
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.composite(image, Image.new("RGB", (width, height), (250, 250, 240)), gradient)
    block = (0, 0, max(1, width // 4), max(1, height // 4))
    image.paste(MARKER_RGB, block)
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    if orientation is not None:
        exif[EXIF_ORIENTATION] = orientation
    image.save(path, "JPEG", quality=quality, exif=exif.tobytes())
    return path


def write_huge_png(path: Path, width: int, height: int) -> Path:
    """A valid 1-bit PNG of width x height: a few kilobytes on disk, far too many pixels to
    decode (a decompression bomb), written row by row so the test never holds it in memory."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
    return path


# name -> (file name, expected kind); "missing" is never written.
BAD_FILES: dict[str, tuple[str, ErrorKind]] = {
    "missing": ("missing.jpg", ErrorKind.MISSING),
    "empty": ("zero-bytes.jpg", ErrorKind.EMPTY),
    "truncated": ("truncated.jpg", ErrorKind.CORRUPT),
    "damaged_header": ("damaged-header.jpg", ErrorKind.CORRUPT),
    "text": ("not-an-image.jpg", ErrorKind.NOT_IMAGE),
    "heic": ("photo.heic", ErrorKind.UNSUPPORTED),
    "random": ("random-bytes.jpg", ErrorKind.UNSUPPORTED),
    "huge": ("huge.png", ErrorKind.TOO_LARGE),
}


def write_bad_files(folder: Path) -> dict[str, Path]:
    """One file per way an original can be bad (see BAD_FILES); returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / file_name for name, (file_name, _) in BAD_FILES.items()}
    paths["empty"].write_bytes(b"")
    whole = write_jpeg(folder / "whole.jpg", 640, 480, seed=7).read_bytes()
    # An interrupted upload: the first 40 % of a good JPEG.
    paths["truncated"].write_bytes(whole[: len(whole) * 4 // 10])
    rng = random.Random(4)
    paths["damaged_header"].write_bytes(b"\xff\xd8\xff" + rng.randbytes(2000))
    paths["text"].write_text("Site notes: gutter bracket loose at the north-east corner.\n" * 20)
    paths["heic"].write_bytes(
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + rng.randbytes(4000)
    )
    # Random bytes whose first ones match no known signature.
    paths["random"].write_bytes(b"\x13\x37" + rng.randbytes(3000))
    write_huge_png(paths["huge"], 12_000, 10_000)
    (folder / "whole.jpg").unlink()
    return paths


def thumbnail_threads() -> list[threading.Thread]:
    return [
        thread
        for thread in threading.enumerate()
        if thread.name.startswith(WORKER_THREAD_PREFIX) and thread.is_alive()
    ]
