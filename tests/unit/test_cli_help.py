"""The command line's help: every command has it, every argument is described, and asking for
it creates nothing (no data dir, no database cluster, no log)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from viewer.cli import main
from viewer.cli.parser import build_parser, parse_args


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


COMMANDS = [path for path, _ in _commands(build_parser())]


def test_every_argument_of_every_command_has_help_text() -> None:
    missing = [
        f"{' '.join(path) or '(top)'} {action.dest}"
        for path, parser in _commands(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert missing == []


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "top")
def test_help_creates_nothing(
    command: tuple[str, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name))
    monkeypatch.setenv("INSPECTION_VIEWER_HOME", str(tmp_path / "home"))
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: inspection-viewer {' '.join(command)}")
    assert os.listdir(tmp_path) == []


def test_top_level_help_says_which_command_opens_the_window() -> None:
    text = " ".join(build_parser().format_help().split())
    assert "With no COMMAND, the main window opens" in text


def test_open_help_describes_the_command_and_its_screenshot_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        parse_args(["open", "--help"])
    text = capsys.readouterr().out
    assert "Open the main window on a .ivbundle file" in text and "--screenshot PATH" in text


def test_global_and_window_options_are_taken_after_the_command_too() -> None:
    args = parse_args(["open", "a.ivbundle", "--screenshot", "p.png", "--data-dir", "d", "-v"])
    assert (args.bundle, args.screenshot, args.data_dir, args.verbose) == (
        "a.ivbundle",
        "p.png",
        "d",
        1,
    )
    before = parse_args(["--screenshot", "p.png", "--data-dir", "d", "open", "a.ivbundle"])
    assert (before.screenshot, before.data_dir) == ("p.png", "d")
    status = parse_args(["db", "status", "--data-dir", "d"])
    assert status.data_dir == "d"


def test_db_psql_help_is_ours_and_psqls_own_comes_after_a_double_dash() -> None:
    assert parse_args(["db", "psql", "-c", "SELECT 1"]).psql_args == ["-c", "SELECT 1"]
    assert parse_args(["db", "psql", "--", "--help"]).psql_args == ["--help"]
    assert parse_args(["db", "psql", "-h", "db.example"]).psql_args == ["-h", "db.example"]
