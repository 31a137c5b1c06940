"""A check of the installed Qt binding for the reference leak that crashes PySide6 6.12.0 apps."""

from __future__ import annotations

import functools
import logging
import platform
import sys

import PySide6
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

log = logging.getLogger(__name__)

_PROBE_CALLS = 32


class _Probe(QObject):
    pinged = Signal()


@functools.cache
def binding_leaks_references() -> bool:
    """True if void Qt methods and Signal.emit() drop a reference to None / True.

    PySide6 6.12.0 returns them without taking a reference. From CPython 3.12 on they are
    immortal and nothing happens; on 3.11 every call takes one away until the interpreter
    aborts ("deallocating None"), after a few thousand thumbnails. Probed once per process:
    the probe itself spends a few references.
    """
    if sys.version_info >= (3, 12):
        return False
    image = QImage(1, 1, QImage.Format.Format_RGB32)
    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(_PROBE_CALLS):
        image.fill(0)
        probe.pinged.emit()
    none_lost = none_before - sys.getrefcount(None)
    true_lost = true_before - sys.getrefcount(True)
    leaks = max(none_lost, true_lost) >= _PROBE_CALLS // 2
    if leaks:
        log.error(
            "PySide6 %s on Python %s loses a reference to None/True on every void call and "
            "signal emit; the app will abort after a few thousand thumbnails. Install another "
            "PySide6-Essentials version (6.11.3 is known good).",
            PySide6.__version__,
            platform.python_version(),
        )
    return leaks
