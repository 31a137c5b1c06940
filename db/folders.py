"""Moving what an older version kept in the data dir to the XDG folders, once, on first start.

Before issue #17 the settings, the caches and the log lived in the data dir. A start in the XDG
layout finds them there and moves them; once moved there is nothing left to move, so it
happens once. What cannot be moved stays where it was, and every step is a line for the log.
"""

from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from db.config import SETTINGS_NAME, AppPaths


@dataclass(frozen=True)
class Move:
    source: Path
    target: Path
    # A cache is not worth copying across file systems at start-up: it is removed instead.
    disposable: bool = False


def legacy_moves(paths: AppPaths) -> list[Move]:
    """The old places and the new ones; nothing when everything lives in one folder."""
    if paths.single_folder:
        return []
    old = paths.data_dir
    return [
        Move(old / SETTINGS_NAME, paths.settings_file),
        Move(old / "cache", paths.cache_dir, disposable=True),
        Move(old / "logs", paths.log_dir),
    ]


def move_legacy_files(paths: AppPaths) -> list[str]:
    """Do the moves that are due; one line each for the log (empty: nothing was there)."""
    lines: list[str] = []
    for move in legacy_moves(paths):
        if not (move.source.exists() or move.source.is_symlink()):
            continue
        try:
            lines.append(_move(move))
        except OSError as exc:
            lines.append(f"could not move {move.source} to {move.target}: {exc.strerror or exc}")
    return lines


def _move(move: Move) -> str:
    source, target = move.source, move.target
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()  # an empty folder a newer start made: take its place
    if target.exists():
        return f"kept {source}: {target} exists already (remove one of them by hand)"
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        if move.disposable:
            shutil.rmtree(source)
            return f"removed the old cache {source} (another disk; it fills again as needed)"
        shutil.move(source, target)
    return f"moved {source} to {target} (the XDG folders since this version)"
