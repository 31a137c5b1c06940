"""A user's start (no --data-dir, no INSPECTION_VIEWER_HOME): settings, caches and the log land
in their XDG folders, and the log tells what was loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from db.config import libpq_url

REPO = Path(__file__).resolve().parents[2]


def test_a_screenshot_run_uses_the_xdg_folders_and_logs_the_load(  # type: ignore[no-untyped-def]
    demo_db, tmp_path: Path
) -> None:
    xdg = {
        "XDG_DATA_HOME": tmp_path / "data",
        "XDG_CONFIG_HOME": tmp_path / "config",
        "XDG_CACHE_HOME": tmp_path / "cache",
        "XDG_STATE_HOME": tmp_path / "state",
    }
    env = {k: v for k, v in os.environ.items() if k != "INSPECTION_VIEWER_HOME"}
    env.update({k: str(v) for k, v in xdg.items()}, HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    url = libpq_url(demo_db.engine.url)
    command = [sys.executable, "-m", "viewer", "--database-url", url]
    media = ["--media-root", str(demo_db.media_dir)]
    proc = subprocess.run(
        [*command, *media, "--screenshot", str(tmp_path / "shot.png")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr

    assert (tmp_path / "config/inspection-viewer/settings.ini").is_file()
    assert (tmp_path / "cache/inspection-viewer/thumbnails").is_dir()
    log = (tmp_path / "state/inspection-viewer/log/inspection-viewer.log").read_text()
    data_dir = tmp_path / "data/inspection-viewer"
    assert sorted(p.name for p in data_dir.iterdir()) == [], "only the database lives there"
    assert f"started (window): database postgresql://{demo_db.engine.url.username}@" in log
    assert f"data dir {data_dir}" in log
    loads = [line for line in log.splitlines() if "loaded inspection INS-" in line]
    assert loads and " 1 statement, strategy batch, " in loads[0], log
