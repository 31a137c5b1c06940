"""The embedded server survives a killed run and leaves nothing behind after a normal one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from db.embedded import HANDLE_PIDS_FILE, prune_dead_handles, running_postmaster_pid

REPO = Path(__file__).resolve().parents[2]


def _postgres_processes(pgdata: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        if proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] == "postgres" and str(pgdata) in cmdline:
            found.append(proc)
    return found


HOLD = """
    import sys
    from pathlib import Path
    from db.embedded import EmbeddedServer
    server = EmbeddedServer(Path(sys.argv[1]))
    server.start()
    print("ready", flush=True)
    sys.stdin.readline()
"""


@pytest.mark.slow
def test_a_run_killed_with_sigkill_does_not_break_the_next_and_nothing_is_left(
    tmp_path: Path,
) -> None:
    pgdata = tmp_path / "pgdata"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLD), str(pgdata)],
        cwd=REPO,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "ready"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert running_postmaster_pid(pgdata) is not None, "the server outlives a killed client"

    normal = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent("""
            import sys
            from pathlib import Path
            import psycopg
            from db.config import libpq_url
            from db.embedded import EmbeddedServer
            server = EmbeddedServer(Path(sys.argv[1]))
            url = server.start()
            with psycopg.connect(libpq_url(url)) as conn:
                print(conn.execute("SELECT 40 + 2").fetchone()[0])
            server.release()
        """),
            str(pgdata),
        ],
        cwd=REPO,
        text=True,
        capture_output=True,
        timeout=120,
    )
    assert normal.returncode == 0, normal.stderr
    assert normal.stdout.strip() == "42"
    assert running_postmaster_pid(pgdata) is None
    assert _postgres_processes(pgdata) == []


def test_dead_handle_pids_are_pruned_and_live_ones_kept(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / HANDLE_PIDS_FILE).write_text(f"[{dead.pid}, {os.getpid()}]")
    assert prune_dead_handles(tmp_path) == [dead.pid]
    assert (tmp_path / HANDLE_PIDS_FILE).read_text() == f"[{os.getpid()}]"


def test_imports_cleanly_without_xdg_runtime_dir_even_with_warnings_as_errors() -> None:
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    proc = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-c",
            "import db.embedded as e; e._package(); print(e.bundled_bin('psql') is not None)",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"
