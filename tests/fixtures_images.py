"""Real image files for the thumbnail tests, bad ones included, and a look at worker threads."""

from __future__ import annotations

import json
import os
import random
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pillow_heif
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


def write_large_png(path: Path, width: int, height: int, *, bit_depth: int = 8) -> Path:
    """A valid single-colour RGB PNG, written row by row: a few hundred kilobytes for 99 MP,
    which Qt decodes into width x height x 4 bytes (x 8 at 16 bits a sample)."""
    row = b"\x00" + b"\x40" * (width * 3 * bit_depth // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, 2, 0, 0, 0)
    chunks = (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        for kind, body in ((b"IHDR", ihdr), (b"IDAT", data), (b"IEND", b""))
    )
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"".join(chunks))
    return path


def write_heic(
    path: Path,
    width: int,
    height: int,
    *,
    orientation: int | None = None,
    thumbnails: Sequence[int] = (),
    alpha: bool = False,
) -> Path:
    """A real HEIC (libheif's x265) with write_jpeg's red block in the stored top-left corner;
    `thumbnails` are the long edges of embedded thumbnails. pillow-heif turns an EXIF
    orientation into the container's rotation and mirroring, as cameras do."""
    image = Image.new("RGBA" if alpha else "RGB", (width, height), (40, 90, 200, 128))
    image.paste(MARKER_RGB, (0, 0, max(1, width // 4), max(1, height // 4)))
    exif = Image.Exif()
    if orientation is not None:
        exif[EXIF_ORIENTATION] = orientation
    path.parent.mkdir(parents=True, exist_ok=True)
    pillow_heif.from_pillow(image).save(
        path, quality=70, exif=exif.tobytes(), thumbnails=list(thumbnails)
    )
    return path


# name -> (file name, expected kind); "missing" is never written.
BAD_FILES: dict[str, tuple[str, ErrorKind]] = {
    "missing": ("missing.jpg", ErrorKind.MISSING),
    "empty": ("zero-bytes.jpg", ErrorKind.EMPTY),
    "truncated": ("truncated.jpg", ErrorKind.CORRUPT),
    "damaged_header": ("damaged-header.jpg", ErrorKind.CORRUPT),
    "text": ("not-an-image.jpg", ErrorKind.NOT_IMAGE),
    "heic": ("photo.heic", ErrorKind.CORRUPT),  # a HEIC header, then random bytes
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


# --- decoding in a child process ------------------------------------------------------------
# A native crash in a decoder kills its process: the decode tests run hostile and exotic files
# in a child, where a crash or a hang is a test failure, not a dead test run.

_CHILD_DECODE = """
import json, sys
from pathlib import Path
from viewer.thumbnails.decode import ThumbnailError, decode_scaled, estimated_decode_bytes
from viewer.thumbnails.export import png_thumbnail

size_px = int(sys.argv[1])
for name in sys.argv[2:]:
    print(json.dumps({"start": name}), flush=True)
    path = Path(name)
    outcome = {"path": name, "estimate": estimated_decode_bytes(path.read_bytes(), size_px)}
    try:
        image = decode_scaled(path, size_px)
        outcome["size"] = [image.width(), image.height()]
    except ThumbnailError as exc:
        outcome["kind"], outcome["reason"] = exc.kind.value, exc.reason
    png = png_thumbnail(path, size_px)
    if png is not None:
        path.with_name(path.name + ".thumb.png").write_bytes(png)
    outcome["png"] = png is not None
    print(json.dumps(outcome), flush=True)
"""


@dataclass(frozen=True)
class ChildDecode:
    """What decode_scaled, estimated_decode_bytes and png_thumbnail made of one file in a
    child process; `died` says how the child ended instead, if it did not finish this file."""

    size: tuple[int, int] | None = None
    kind: str | None = None
    reason: str = ""
    png: Path | None = None
    estimate: int = 0
    died: str = ""


def decode_in_child(
    paths: Iterable[Path], size_px: int, *, timeout_s: float = 120.0
) -> dict[Path, ChildDecode]:
    """Each file decoded by a child process (a few files to a child); a file that kills or
    hangs its child is reported as such and the rest go on in a new child. `timeout_s` only
    ends a hang: nothing here measures time."""
    results: dict[Path, ChildDecode] = {}
    remaining = list(paths)
    while remaining:
        command = [sys.executable, "-c", _CHILD_DECODE, str(size_px), *map(str, remaining)]
        try:
            run = subprocess.run(
                command, capture_output=True, timeout=timeout_s, env=dict(os.environ)
            )
            stdout, stderr, ending = run.stdout, run.stderr, _ending(run.returncode)
        except subprocess.TimeoutExpired as hung:
            stdout, stderr = hung.stdout or b"", hung.stderr or b""
            ending = f"still running after {timeout_s:.0f} s (killed)"
        started: Path | None = None
        for line in stdout.decode().splitlines():
            record = json.loads(line)
            if "start" in record:
                started = Path(record["start"])
                continue
            path = Path(record["path"])
            png = path.with_name(path.name + ".thumb.png")
            results[path] = ChildDecode(
                size=tuple(record["size"]) if "size" in record else None,
                kind=record.get("kind"),
                reason=record.get("reason", ""),
                png=png if record["png"] else None,
                estimate=record["estimate"],
            )
            started = None
        tail = stderr.decode(errors="replace")[-2000:]
        if started is None:  # died between files, or before the first: blame them all
            if ending:
                results.update({p: ChildDecode(died=f"{ending}: {tail}") for p in remaining})
            break
        results[started] = ChildDecode(died=f"{ending or 'exited early'}: {tail}")
        remaining = [p for p in remaining if p not in results]
    return results


def _ending(returncode: int) -> str:
    if returncode < 0:
        return f"killed by signal {-returncode}"
    return f"exited with status {returncode}" if returncode else ""
