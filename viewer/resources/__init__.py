"""The app's icon and desktop entry, shipped inside the package (found with importlib.resources)."""

from __future__ import annotations

from importlib.resources import as_file, files
from importlib.resources.abc import Traversable

ICON = "inspection-viewer.png"
DESKTOP_ENTRY = "inspection-viewer.desktop"


def resource(name: str) -> Traversable:
    """One of the files above, wherever the package was installed (a wheel, -e, a zip)."""
    return files(__name__) / name


__all__ = ["DESKTOP_ENTRY", "ICON", "as_file", "resource"]
