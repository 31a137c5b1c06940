"""The GUI starts on a real database, lists inspections and can save a screenshot of itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage
from sqlalchemy import text

from db.config import libpq_url

REPO = Path(__file__).resolve().parents[2]


def test_screenshot_option_saves_the_window_with_inspections_listed(  # type: ignore[no-untyped-def]
    demo_db, tmp_path: Path
) -> None:
    png = tmp_path / "main.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "viewer",
            "--database-url",
            libpq_url(demo_db.engine.url),
            "--media-root",
            str(demo_db.media_dir),
            "--data-dir",
            str(tmp_path / "data"),
            "--screenshot",
            str(png),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    with demo_db.engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM inspections")).scalar_one()
    assert f"({min(count, 200)} inspections listed)" in proc.stdout
    image = QImage(str(png))
    assert (image.width(), image.height()) == (1440, 860)


def test_screenshot_of_an_unreachable_database_shows_the_error_and_exits_1(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "viewer",
            "--database-url",
            "postgresql://u:pw@127.0.0.1:1/x",
            "--screenshot",
            str(tmp_path / "x.png"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "cannot connect" in proc.stderr
    assert "pw@" not in proc.stderr + proc.stdout
    assert not QImage(str(tmp_path / "x.png")).isNull(), "the error state is worth a picture"
