"""Where the GUI thread is while it stalls: a watchdog thread samples its Python stack.

Opt-in (`--stall-stacks`): the watchdog wakes every 2 ms and takes the GIL to look at the
heartbeat, which perturbs the figures a little. When the last beat is older than the
threshold, it records the GUI thread's stack, again every few milliseconds while the stall
lasts; each stall is then summarised by the innermost frame of the project's own code.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

from viewer.bench.gui.probes import Heartbeat
from viewer.bench.gui.results import StallSample

POLL_S = 0.002
THRESHOLD_S = 0.025
RESAMPLE_S = 0.010
STACK_DEPTH = 8
NO_PYTHON = "no Python frame: in Qt (C++), waiting for the GIL or for a CPU"
# The event loop's own frame: what runs inside it is what the stall was spent on.
EVENT_LOOP = "qasync/__init__.py"
_ROOT = Path(__file__).resolve().parents[3]  # the checkout: viewer/ and db/ are "ours"
_OURS = (str(_ROOT / "viewer") + "/", str(_ROOT / "db") + "/")
_SELF = str(Path(__file__).resolve().parent) + "/"


class StallSampler:
    """Started and stopped with a run; `samples()` gives one StallSample per stall seen."""

    def __init__(self, heartbeat: Heartbeat) -> None:
        self.heartbeat = heartbeat
        self.gui_thread = threading.get_ident()  # constructed on the GUI thread
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # (beat the stall followed, phase) -> stack summaries seen during that stall
        self._stalls: dict[float, tuple[str, list[tuple[str, tuple[str, ...]]]]] = {}

    def start(self) -> None:
        self._stalls = {}
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="bench-gui-stall-sampler")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _watch(self) -> None:
        last_sample = 0.0
        while not self._stop.wait(POLL_S):
            beat = self.heartbeat.last
            now = time.perf_counter()
            if now - beat < THRESHOLD_S or now - last_sample < RESAMPLE_S:
                continue
            frame = sys._current_frames().get(self.gui_thread)
            if frame is None:
                continue
            stack = tuple(
                f"{_short(f.filename)}:{f.lineno} {f.name}"
                for f in traceback.extract_stack(frame)
                if not f.filename.startswith(_SELF)
            )
            where = _innermost_ours(stack)
            _phase, seen = self._stalls.setdefault(beat, (self.heartbeat.phase, []))
            seen.append((where, stack[-STACK_DEPTH:]))
            last_sample = now

    def samples(self) -> tuple[StallSample, ...]:
        """One per stall (after the heartbeat stopped): its length, phase and commonest place."""
        result = []
        for beat, (phase, seen) in self._stalls.items():
            where, stack = Counter(seen).most_common(1)[0][0]
            gap = self.heartbeat.gap_after(beat) or 0.0
            result.append(StallSample(round(gap * 1000, 1), phase, where, stack))
        return tuple(sorted(result, key=lambda s: s.gap_ms, reverse=True))


def _short(filename: str) -> str:
    path = Path(filename)
    try:
        return str(path.resolve().relative_to(_ROOT))
    except ValueError:
        parts = path.parts
        return "/".join(parts[-2:]) if "site-packages" not in parts else _package_path(parts)


def _package_path(parts: tuple[str, ...]) -> str:
    index = parts.index("site-packages")
    return "/".join(parts[index + 1 :])


def _innermost_ours(stack: tuple[str, ...]) -> str:
    """The innermost frame of our code inside the event loop, else the innermost one there."""
    loop = max((i for i, entry in enumerate(stack) if entry.startswith(EVENT_LOOP)), default=-1)
    inside = stack[loop + 1 :]
    for entry in reversed(inside):
        if entry.startswith(("viewer/", "db/")):
            return entry
    if inside:
        return inside[-1]
    return NO_PYTHON if not stack or stack[-1].endswith(" run_forever") else stack[-1]


def summarise(samples: list[StallSample], top: int = 8) -> list[tuple[str, int, float]]:
    """(place, stalls, stalled ms) by total time, the longest first."""
    totals: dict[str, list[float]] = {}
    for s in samples:
        totals.setdefault(s.where, []).append(s.gap_ms)
    ranked = sorted(totals.items(), key=lambda kv: sum(kv[1]), reverse=True)
    return [(where, len(gaps), round(sum(gaps), 1)) for where, gaps in ranked[:top]]
