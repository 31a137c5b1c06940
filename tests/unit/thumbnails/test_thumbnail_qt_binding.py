"""The Qt binding the pipeline runs on keeps its references to None and True."""

from __future__ import annotations

import platform

import PySide6

from viewer.thumbnails.binding import binding_leaks_references


def test_void_calls_and_signal_emits_do_not_lose_references() -> None:
    # Browsing one large inspection makes tens of thousands of such calls; with the leak the
    # interpreter aborts ("deallocating None") long before the end.
    assert not binding_leaks_references(), (
        f"PySide6 {PySide6.__version__} on Python {platform.python_version()} loses a reference "
        "to None/True on every void method call and Signal.emit(); the app aborts after a few "
        "thousand thumbnails. Use another PySide6-Essentials (6.11.3 is known good; 6.12.0 is "
        "not) or Python 3.12+."
    )
