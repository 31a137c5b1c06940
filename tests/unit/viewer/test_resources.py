"""The icon and the desktop entry ship inside the package, wherever it is installed."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from viewer.app import create_application
from viewer.resources import DESKTOP_ENTRY, ICON, resource


def test_icon_and_desktop_entry_are_package_data() -> None:
    assert resource(ICON).read_bytes().startswith(b"\x89PNG")
    assert resource(DESKTOP_ENTRY).read_text(encoding="utf-8").startswith("[Desktop Entry]")


def test_the_application_has_its_window_icon(qapp: QApplication) -> None:
    app = create_application()
    assert not app.windowIcon().isNull()
    assert app.windowIcon().availableSizes()[0].width() == 256
