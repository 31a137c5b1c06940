"""The command line: clear one-line errors, exit codes, and the db tools on a real server."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from db.config import libpq_url
from db.demo import BAD_MEDIA_INSPECTION_REFERENCE
from viewer.cli import main

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The installed entry point in a child process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "viewer", *args],
        cwd=REPO,
        text=True,
        capture_output=True,
        timeout=timeout,
    )


def _url(engine: Engine) -> str:
    return libpq_url(engine.url)


@pytest.fixture(autouse=True)
def _private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A command run without --data-dir (in this process or a child) writes its log here."""
    monkeypatch.setenv("INSPECTION_VIEWER_HOME", str(tmp_path / "home"))


def _one_line(text: str) -> str:
    assert text.strip(), "nothing was printed"
    assert text.strip().count("\n") == 0, f"more than one line:\n{text}"
    assert "Traceback" not in text
    return text.strip()


def test_unknown_option_is_a_one_line_error_with_exit_code_2() -> None:
    proc = _run("--no-such-option")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "unrecognized arguments: --no-such-option" in proc.stderr


def test_bad_value_is_a_one_line_error_with_exit_code_2() -> None:
    proc = _run("demo", "--inspections", "many")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "expected a whole number" in proc.stderr


def test_bad_database_url_is_refused_before_connecting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database-url", "mysql://root:hunter2@localhost/x", "db", "status"]) == 2
    message = capsys.readouterr().err
    assert "needs PostgreSQL" in message
    assert "hunter2" not in message


def test_unreachable_server_names_the_server_but_not_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Port 1 on loopback: nothing listens, so the connection is refused at once.
    code = main(["--database-url", "postgresql://alice:hunter2@127.0.0.1:1/insp", "db", "status"])
    message = capsys.readouterr().err
    assert code == 1
    assert "cannot connect to postgresql://alice:***@127.0.0.1:1/insp" in message
    assert "hunter2" not in message
    assert message.strip().count("\n") == 0


def test_start_and_stop_are_refused_for_a_team_server(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database-url", "postgresql://u@127.0.0.1:1/insp", "db", "start"]) == 2
    assert "embedded server" in capsys.readouterr().err


def test_validate_passes_on_a_migrated_database_and_fails_without_an_index(
    migrated_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(migrated_engine)
    with migrated_engine.begin() as conn:
        conn.execute(text("ANALYZE inspections, checklist_items, media"))
    assert main(["--database-url", url, "db", "validate"]) == 0
    assert "checks passed" in capsys.readouterr().out


def test_validate_exits_1_when_a_check_fails(create_database, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    url: URL = create_database("validate")
    # Its audit reports go to the test's folder, never the user's data dir.
    data_dir = ["--data-dir", str(tmp_path)]
    assert main(["--database-url", libpq_url(url), *data_dir, "db", "upgrade"]) == 0
    assert list((tmp_path / "reports").glob("upgrade-*.json"))
    capsys.readouterr()
    subprocess.run(
        ["psql", libpq_url(url), "-qc", "DROP INDEX ix_media_checklist_item"],
        check=True,
        capture_output=True,
    )
    assert main(["--database-url", libpq_url(url), *data_dir, "db", "validate"]) == 1
    out = capsys.readouterr().out
    assert "ix_media_checklist_item" in out and "fail" in out


def test_upgrade_writes_an_audit_report_with_the_rollback_command(
    create_database, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    url = libpq_url(create_database("audit"))
    assert main(["--database-url", url, "--data-dir", str(tmp_path), "db", "upgrade"]) == 0
    reports = sorted((tmp_path / "reports").glob("upgrade-*"))
    assert [p.suffix for p in reports] == [".json", ".md"]
    markdown = reports[1].read_text()
    assert "db downgrade base" in markdown
    assert "0002_performance_v1" in markdown
    assert "| index ix_media_inspection_display | pass |" in markdown
    # Downgrade back to the schema only, then upgrade again: validate passes again.
    assert (
        main(["--database-url", url, "--data-dir", str(tmp_path), "db", "downgrade", "0001_schema"])
        == 0
    )
    assert main(["--database-url", url, "--data-dir", str(tmp_path), "db", "upgrade"]) == 0
    assert main(["--database-url", url, "db", "validate"]) == 0


def test_psql_runs_against_the_database(migrated_engine: Engine) -> None:
    proc = _run(
        "--database-url",
        _url(migrated_engine),
        "db",
        "psql",
        "--",
        "-Atc",
        "SELECT count(*) FROM validate_optimization()",
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.strip()) >= 10


def test_db_start_leaves_the_server_running_until_db_stop_even_on_a_fresh_data_dir(
    tmp_path: Path,
) -> None:
    data = str(tmp_path / "fresh")
    started = _run("--data-dir", data, "db", "start")
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith("postgresql://postgres")
    # A later command attaches to it, and leaving does not stop it.
    status = _run("--data-dir", data, "db", "status")
    assert status.returncode == 0, status.stderr
    from db.embedded import running_postmaster_pid

    assert running_postmaster_pid(tmp_path / "fresh" / "pgdata") is not None
    stopped = _run("--data-dir", data, "db", "stop")
    assert stopped.returncode == 0
    assert "stopped the embedded server" in stopped.stdout
    assert running_postmaster_pid(tmp_path / "fresh" / "pgdata") is None


def test_every_command_sets_a_handler() -> None:
    """One dispatch: main() calls args.handler, so a command without one would crash."""
    import argparse

    from viewer.cli.parser import build_parser

    def leaves(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, Any]]:
        subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        # A command runs if it has no subcommands, or has a handler of its own besides them.
        if not subparsers or parser.get_default("handler") is not None:
            yield path, parser.get_default("handler")
        for action in subparsers:
            for name, child in action.choices.items():
                yield from leaves(child, f"{path} {name}".strip())

    handlers = dict(leaves(build_parser(), ""))
    assert {"demo", "export", "open", "bench", "db upgrade", "db psql"} <= set(handlers)
    assert [path for path, handler in handlers.items() if not callable(handler)] == []
    assert callable(build_parser().get_default("handler")), "no command: the window"


def test_export_writes_a_bundle_and_open_refuses_a_damaged_one(  # type: ignore[no-untyped-def]
    demo_db, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = [
        "--database-url",
        demo_db.engine.url.render_as_string(hide_password=False),
        "--data-dir",
        str(tmp_path / "data"),
        "--media-root",
        str(demo_db.media_dir),
    ]
    out = tmp_path / "bad.ivbundle"
    assert (
        main([*common, "export", "--inspection", BAD_MEDIA_INSPECTION_REFERENCE, "--out", str(out)])
        == 0
    )
    captured = capsys.readouterr()
    assert f"Bundle {out}: 1 inspection," in captured.out
    assert "thumbnails" in captured.out
    assert "4 photo(s) could not be taken offline" in captured.err

    damaged = tmp_path / "damaged.ivbundle"
    damaged.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    assert main([*common, "open", str(damaged)]) == 1
    message = capsys.readouterr().err
    assert "truncated or damaged" in message
    assert message.strip().count("\n") == 0


# --- hostile input: one line, never a traceback (issue 12, item 4) -------------------------------


def test_malformed_url_is_one_line_with_exit_code_2_and_no_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql://alice:pw@[::1/x"
    code = main(["--data-dir", str(tmp_path), "--database-url", url, "db", "status"])
    line = _one_line(capsys.readouterr().err)
    assert code == 2
    assert "not a database URL" in line and "alice:***@" in line and ":pw@" not in line


@pytest.mark.parametrize(
    "command",
    [
        ["db", "status"],
        ["db", "upgrade"],
        ["export", "--status", "completed", "--out", "/tmp/x.ivbundle"],
        ["open", "/tmp/x.ivbundle"],
    ],
)
def test_a_data_dir_that_cannot_be_created_is_one_line_with_exit_code_2(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data-dir", "/proc/x", *command]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "cannot create the data dir /proc/x" in line and "--data-dir" in line


def test_the_window_on_a_data_dir_that_cannot_be_created_is_one_line_and_no_window(
    tmp_path: Path,
) -> None:
    proc = _run("--data-dir", "/proc/x", "--screenshot", str(tmp_path / "x.png"), timeout=60)
    assert proc.returncode == 2
    assert "cannot create the data dir /proc/x" in _one_line(proc.stderr)
    assert not (tmp_path / "x.png").exists()


def test_a_full_data_dir_disk_is_one_line_fault_injected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    assert main(["--data-dir", str(tmp_path / "data"), "db", "url"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert f"disk full at {tmp_path / 'data'}" in line


@pytest.mark.parametrize("action", ["upgrade", "downgrade"])
def test_an_unknown_revision_is_one_line_and_the_audit_report_says_why(  # type: ignore[no-untyped-def]
    action: str, create_database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = libpq_url(create_database("revision"))
    assert main(["--database-url", url, "--data-dir", str(tmp_path), "db", action, "nonsense"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "unknown revision 'nonsense'" in line and "0001_schema" in line
    (report,) = (tmp_path / "reports").glob(f"{action}-*.json")
    data = json.loads(report.read_text())
    assert data["success"] is False
    assert "unknown revision 'nonsense'" in data["error"]
    (markdown,) = (tmp_path / "reports").glob(f"{action}-*.md")
    assert "- Error: unknown revision 'nonsense'" in markdown.read_text()


def test_export_from_a_database_without_the_schema_says_which_command_to_run(  # type: ignore[no-untyped-def]
    create_database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = libpq_url(create_database("noschema"))
    out = tmp_path / "x.ivbundle"
    command = ["--database-url", url, "--data-dir", str(tmp_path / "data")]
    assert main([*command, "export", "--status", "completed", "--out", str(out)]) == 1
    line = _one_line(capsys.readouterr().err)
    assert "run `inspection-viewer db upgrade` first" in line
    assert not out.exists()


def test_export_to_a_full_disk_is_one_line_and_leaves_nothing_fault_injected(  # type: ignore[no-untyped-def]
    demo_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from db.offline.writer import BundleWriter

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(BundleWriter, "_add_stream", full)
    monkeypatch.setattr(BundleWriter, "add_bytes", full)
    folder = tmp_path / "usb"
    folder.mkdir()
    code = main(
        [
            "--database-url",
            demo_db.engine.url.render_as_string(hide_password=False),
            "--data-dir",
            str(tmp_path / "data"),
            "--media-root",
            str(demo_db.media_dir),
            "export",
            "--inspection",
            BAD_MEDIA_INSPECTION_REFERENCE,
            "--no-thumbnails",
            "--out",
            str(folder / "x.ivbundle"),
        ]
    )
    line = _one_line(capsys.readouterr().err)
    assert code == 1
    assert f"disk full at {folder / 'x.ivbundle'}" in line and "no bundle was written" in line
    assert list(folder.iterdir()) == []


def test_a_bug_is_one_line_naming_the_log_file_which_holds_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from viewer.cli.database import server

    def broken(args: object, ctx: object) -> int:
        raise RuntimeError("a bug near postgresql://u:S3cretPW@h/db")

    monkeypatch.setattr(server, "run_stop", broken)
    assert main(["--data-dir", str(tmp_path), "db", "stop"]) == 1
    log_file = tmp_path / "logs" / "inspection-viewer.log"
    line = _one_line(capsys.readouterr().err)
    assert line == f"inspection-viewer: Unexpected error (RuntimeError). Details are in {log_file}."
    logged = log_file.read_text()
    assert "Traceback" in logged and "RuntimeError: a bug near postgresql://u:***@h/db" in logged
    assert "S3cretPW" not in logged


def test_a_full_disk_met_by_a_command_says_where_not_unexpected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from viewer.cli.database import server

    def full(args: object, ctx: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "pgdata" / "x"))

    monkeypatch.setattr(server, "run_stop", full)
    assert main(["--data-dir", str(tmp_path), "db", "stop"]) == 1
    line = _one_line(capsys.readouterr().err)
    assert f"disk full at {tmp_path / 'pgdata' / 'x'}: free some space" in line


def test_every_command_writes_the_rotating_log_file_in_the_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging
    import logging.handlers

    handlers_before = list(logging.getLogger().handlers)
    assert main(["--data-dir", str(tmp_path), "db", "stop"]) == 0
    log_file = tmp_path / "logs" / "inspection-viewer.log"
    assert "inspection-viewer" in log_file.read_text() and "started" in log_file.read_text()
    # main() leaves the logging as it found it: tests and embedders call it many times.
    assert logging.getLogger().handlers == handlers_before
    from viewer.cli.logs import LOG_BACKUPS, LOG_BYTES

    assert LOG_BYTES == 1_000_000 and LOG_BACKUPS == 3


def test_db_url_hides_the_password_unless_asked(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://alice:S3cretPW@db.example:5432/insp?sslpassword=S3cretPW"
    assert main(["--database-url", url, "db", "url"]) == 0
    shown = capsys.readouterr().out.strip()
    assert shown == "postgresql://alice:***@db.example:5432/insp?sslpassword=***"
    assert main(["--database-url", url, "db", "url", "--show-password"]) == 0
    assert capsys.readouterr().out.strip() == url
    with pytest.raises(SystemExit):
        main(["db", "url", "--help"])
    assert "--show-password" in capsys.readouterr().out
