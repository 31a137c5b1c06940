"""Reading the PDFs the app writes with Debian's poppler-utils, as a person checking one would."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

TOOLS = ("pdftotext", "pdftoppm", "pdfimages", "pdfinfo")


def require_poppler() -> None:
    """Fail (not skip) without the tools: .ci/run installs poppler-utils when they are missing."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"poppler-utils is not installed (missing {', '.join(missing)})")


def _run(*args: str | Path) -> str:
    return subprocess.run(
        [str(a) for a in args], check=True, capture_output=True, text=True, timeout=120
    ).stdout


def page_count(pdf: Path) -> int:
    match = re.search(r"^Pages:\s+(\d+)$", _run("pdfinfo", pdf), re.MULTILINE)
    assert match, "pdfinfo names no page count"
    return int(match.group(1))


def pages_text(pdf: Path) -> list[str]:
    """The text of each page, in layout order (pdftotext ends every page with a form feed),
    ligatures such as "fi" spelled out (NFKC), as a reader's search sees it."""
    text = unicodedata.normalize("NFKC", _run("pdftotext", "-layout", "-enc", "UTF-8", pdf, "-"))
    pages = text.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


@dataclass(frozen=True)
class EmbeddedImage:
    page: int
    width: int
    height: int
    encoding: str
    x_ppi: int


def embedded_images(pdf: Path) -> list[EmbeddedImage]:
    """Every image XObject drawn, from `pdfimages -list`."""
    images = []
    for line in _run("pdfimages", "-list", pdf).splitlines()[2:]:
        cols = line.split()
        if len(cols) >= 13 and cols[2] == "image":
            images.append(
                EmbeddedImage(int(cols[0]), int(cols[3]), int(cols[4]), cols[8], int(cols[12]))
            )
    return images


def extract_images(pdf: Path, folder: Path) -> list[Path]:
    """The images as files (JPEGs as they are stored), in page order."""
    folder.mkdir(parents=True, exist_ok=True)
    _run("pdfimages", "-all", pdf, folder / "img")
    return sorted(folder.glob("img-*"))


def rasterise(pdf: Path, folder: Path, first: int, last: int, dpi: int = 30) -> list[Path]:
    """Pages as PNGs, with pdftoppm."""
    folder.mkdir(parents=True, exist_ok=True)
    _run("pdftoppm", "-r", str(dpi), "-png", "-f", str(first), "-l", str(last), pdf, folder / "p")
    return sorted(folder.glob("p-*.png"))
