"""`desktop install|uninstall` into temporary XDG folders, checked with the desktop's own tools
(desktop-file-utils, xdg-utils, shared-mime-info: .ci/run installs them)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from viewer.cli.desktop import MIME_TYPE, set_default

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("desktop-file-validate", "xdg-mime", "update-mime-database")


def _need_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing and not os.environ.get("CI"):
        pytest.skip(f"not installed here: {', '.join(missing)} (.ci/run installs them)")
    assert not missing, f".ci/run should have installed {missing}"


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd=REPO)


def test_install_passes_the_validator_and_makes_us_the_bundles_default_app(tmp_path: Path) -> None:
    _need_tools()
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "INSPECTION_VIEWER_HOME": str(tmp_path / "home"),
    }
    viewer = [sys.executable, "-m", "viewer", "desktop"]
    installed = _run([*viewer, "install"], env)
    assert installed.returncode == 0, installed.stderr

    entry = tmp_path / "data/applications/inspection-viewer.desktop"
    valid = _run(["desktop-file-validate", str(entry)], env)
    assert valid.returncode == 0 and not valid.stdout.strip(), valid.stdout + valid.stderr
    text = entry.read_text()
    assert f"MimeType={MIME_TYPE};" in text
    assert "Exec=" in text and text.split("Exec=")[1].splitlines()[0].endswith(" open %f")
    assert (tmp_path / "data/icons/hicolor/256x256/apps/inspection-viewer.png").is_file()
    assert "*.ivbundle" in (tmp_path / "data/mime/globs2").read_text()  # the database was built
    default = _run(["xdg-mime", "query", "default", MIME_TYPE], env)
    assert default.stdout.strip() == "inspection-viewer.desktop", default.stderr

    removed = _run([*viewer, "uninstall"], env)
    assert removed.returncode == 0, removed.stderr
    assert not entry.exists()
    assert not (tmp_path / "data/mime/packages/inspection-viewer.xml").exists()
    assert MIME_TYPE not in (tmp_path / "config/mimeapps.list").read_text()
    assert _run(["xdg-mime", "query", "default", MIME_TYPE], env).stdout.strip() == ""


def test_the_default_application_line_leaves_the_users_other_lines_alone(tmp_path: Path) -> None:
    mimeapps = tmp_path / "mimeapps.list"
    mimeapps.write_text(
        "[Added Associations]\nimage/png=gimp.desktop;\n\n"
        f"[Default Applications]\ntext/plain=vim.desktop\n{MIME_TYPE}=other.desktop\n"
    )
    set_default(mimeapps, "inspection-viewer.desktop")
    assert mimeapps.read_text() == (
        "[Added Associations]\nimage/png=gimp.desktop;\n\n"
        f"[Default Applications]\n{MIME_TYPE}=inspection-viewer.desktop\ntext/plain=vim.desktop\n"
    )
    set_default(mimeapps, None)
    assert mimeapps.read_text() == (
        "[Added Associations]\nimage/png=gimp.desktop;\n\n"
        "[Default Applications]\ntext/plain=vim.desktop\n"
    )
