"""Where the app keeps its files: the XDG folders by default, one folder with --data-dir, and
the files of an older version moved from the data dir once."""

from __future__ import annotations

from pathlib import Path

import pytest

from db.config import ENV_HOME, resolve_paths
from db.folders import move_legacy_files


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary XDG folders and no INSPECTION_VIEWER_HOME: the layout a user gets."""
    monkeypatch.delenv(ENV_HOME, raising=False)
    for name, folder in [
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", "state"),
    ]:
        monkeypatch.setenv(name, str(tmp_path / folder))
    return tmp_path


def test_by_default_each_kind_of_file_has_its_xdg_folder(xdg: Path) -> None:
    paths = resolve_paths()
    assert paths.data_dir == xdg / "data/inspection-viewer"
    assert paths.pgdata == xdg / "data/inspection-viewer/pgdata"
    assert paths.settings_file == xdg / "config/inspection-viewer/settings.ini"
    assert paths.cache_dir == xdg / "cache/inspection-viewer"
    assert paths.media_cache_dir == xdg / "cache/inspection-viewer/media"
    assert paths.log_file == xdg / "state/inspection-viewer/log/inspection-viewer.log"
    assert not paths.single_folder


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_chosen_data_dir_keeps_everything_in_one_folder(
    xdg: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    home = xdg / "portable"
    if how == "environment":
        monkeypatch.setenv(ENV_HOME, str(home))
    paths = resolve_paths(home if how == "option" else None)
    assert paths.single_folder
    assert paths.settings_file == home / "settings.ini"
    assert paths.cache_dir == home / "cache"
    assert paths.log_file == home / "logs/inspection-viewer.log"
    assert move_legacy_files(paths) == []


def test_an_older_versions_files_move_once_and_say_so(xdg: Path) -> None:
    old = xdg / "data/inspection-viewer"
    (old / "cache/thumbnails").mkdir(parents=True)
    (old / "cache/thumbnails/a.png").write_bytes(b"png")
    (old / "logs").mkdir()
    (old / "logs/inspection-viewer.log").write_text("old line\n")
    (old / "settings.ini").write_text("[review]\nname=Ada\n")
    paths = resolve_paths()
    paths.cache_dir.mkdir(parents=True)  # an empty folder made by a newer start is no obstacle

    lines = move_legacy_files(paths)

    assert len(lines) == 3 and all(line.startswith("moved ") for line in lines), lines
    assert paths.settings_file.read_text() == "[review]\nname=Ada\n"
    assert (paths.cache_dir / "thumbnails/a.png").read_bytes() == b"png"
    assert paths.log_file.read_text() == "old line\n"
    assert sorted(p.name for p in old.iterdir()) == []
    assert move_legacy_files(paths) == []  # once


def test_a_file_already_in_the_new_place_is_never_overwritten(xdg: Path) -> None:
    paths = resolve_paths()
    (paths.data_dir / "settings.ini").write_text("[old]\n")
    paths.settings_file.parent.mkdir(parents=True)
    paths.settings_file.write_text("[new]\n")

    (line,) = move_legacy_files(paths)

    assert line.startswith("kept ") and "exists already" in line
    assert paths.settings_file.read_text() == "[new]\n"
    assert (paths.data_dir / "settings.ini").read_text() == "[old]\n"
