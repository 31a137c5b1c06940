"""The embedded server survives a killed run, a crashed server and two first runs at once, and
leaves nothing behind after a normal one."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from db.embedded import HANDLE_PIDS_FILE, prune_dead_handles, running_postmaster_pid, stop_server

REPO = Path(__file__).resolve().parents[2]
PID_FILE = "postmaster.pid"  # PostgreSQL's own name for its data dir lock


def _postgres_processes(pgdata: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        if proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] == "postgres" and str(pgdata) in cmdline:
            found.append(proc)
    return found


def _postmasters(pgdata: Path) -> list[psutil.Process]:
    # The postmaster keeps its command line; its children rewrite theirs ("postgres: walwriter").
    return [p for p in _postgres_processes(pgdata) if "-D" in (p.info["cmdline"] or [])]


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
    holder.communicate()
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


CRASH = """
    import os
    import sys
    from pathlib import Path
    import psutil
    from db.embedded import EmbeddedServer, running_postmaster_pid
    pgdata = Path(sys.argv[1])
    EmbeddedServer(pgdata).start()
    postmaster = psutil.Process(running_postmaster_pid(pgdata))
    server = [postmaster, *postmaster.children(recursive=True)]
    for proc in server:
        proc.kill()
    psutil.wait_procs(server, timeout=30)
    os._exit(0)  # the machine went down: nobody cleans up
"""

START_QUERY_STOP = """
    import sys
    from pathlib import Path
    import psycopg
    from db.config import AppPaths, libpq_url
    from db.engine import Database
    data_dir = Path(sys.argv[1])
    database = Database(AppPaths(data_dir=data_dir, media_url=(data_dir / "media").as_uri()))
    target = database.open()
    with psycopg.connect(libpq_url(target.url)) as conn:
        print(conn.execute("SELECT 40 + 2").fetchone()[0], flush=True)
    database.close()
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A data dir whose server, should a failing test leave one running, is stopped at teardown."""
    yield tmp_path / "data"
    left = _postmasters(tmp_path / "data" / "pgdata")
    for proc in left:
        proc.terminate()
    psutil.wait_procs(left, timeout=30)


@pytest.fixture
def stranger() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that is none of the server's business."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield proc
    proc.kill()
    proc.wait()


def _hand_pid_files_to(pgdata: Path, pid: int) -> None:
    """What a reboot does to a crashed server's files: their PID now names another process."""
    pid_file = pgdata / PID_FILE
    lines = pid_file.read_text().splitlines()
    socket_lock = Path(lines[4]) / f".s.PGSQL.{lines[3]}.lock"
    for path in (pid_file, socket_lock):
        if path.exists():
            rest = path.read_text().splitlines()[1:]
            path.write_text("\n".join([str(pid), *rest]) + "\n")


@pytest.mark.slow
def test_a_stale_postmaster_pid_naming_another_process_is_replaced_and_that_process_spared(
    data_dir: Path, stranger: subprocess.Popen[bytes]
) -> None:
    pgdata = data_dir / "pgdata"
    crash = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASH), str(pgdata)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert crash.returncode == 0, crash.stderr
    assert _postgres_processes(pgdata) == []
    _hand_pid_files_to(pgdata, stranger.pid)

    with subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(START_QUERY_STOP), str(data_dir)],
        cwd=REPO,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as run:
        # Fail as soon as the stranger dies: the old code then waited 60 s for it to "stop".
        deadline = time.monotonic() + 120
        while run.poll() is None and stranger.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(subprocess.TimeoutExpired):
                run.wait(timeout=0.1)
        if run.poll() is None:
            run.kill()
        out, err = run.communicate()
    assert stranger.poll() is None, "the process named by the stale postmaster.pid was killed"
    assert run.returncode == 0, err
    assert out.strip() == "42"
    assert running_postmaster_pid(pgdata) is None
    assert _postgres_processes(pgdata) == []


def test_db_stop_never_signals_the_process_a_stale_pid_file_names(
    tmp_path: Path, stranger: subprocess.Popen[bytes]
) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("18\n")
    (pgdata / PID_FILE).write_text(
        f"{stranger.pid}\n{pgdata}\n1700000000\n5432\n{pgdata}\n\n  1 2\nready   \n"
    )
    try:
        stopped = stop_server(pgdata)
    finally:
        assert stranger.poll() is None, "db stop killed the process a stale postmaster.pid names"
    assert stopped is False
    assert running_postmaster_pid(pgdata) is None
    assert not (pgdata / PID_FILE).exists()


FIRST_RUN = """
    import sys
    from pathlib import Path
    import psycopg
    from db.config import AppPaths, libpq_url
    from db.engine import Database
    data_dir = Path(sys.argv[1])
    database = Database(AppPaths(data_dir=data_dir, media_url=(data_dir / "media").as_uri()))
    print("ready", flush=True)
    sys.stdin.readline()
    target = database.open()
    with psycopg.connect(libpq_url(target.url)) as conn:
        print(conn.execute("SHOW shared_preload_libraries").fetchone()[0], flush=True)
    sys.stdin.readline()
    database.close()
"""


@pytest.mark.slow
def test_two_first_runs_at_once_share_one_server_and_the_last_one_out_stops_it(
    tmp_path: Path, data_dir: Path
) -> None:
    pgdata = data_dir / "pgdata"
    runs = []
    for i in range(2):
        with (tmp_path / f"run{i}.err").open("w") as stderr:
            runs.append(
                subprocess.Popen(
                    [sys.executable, "-c", textwrap.dedent(FIRST_RUN), str(data_dir)],
                    cwd=REPO,
                    text=True,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                )
            )
    try:
        for run in runs:
            assert run.stdout is not None and run.stdout.readline().strip() == "ready"
        for run in runs:  # both start from here, on a data dir that does not exist yet
            assert run.stdin is not None
            run.stdin.write("go\n")
            run.stdin.flush()
        for i, run in enumerate(runs):
            assert run.stdout is not None
            line = run.stdout.readline().strip()
            assert line == "pg_stat_statements", (tmp_path / f"run{i}.err").read_text()

        postmasters = _postmasters(pgdata)
        assert [p.pid for p in postmasters] == [running_postmaster_pid(pgdata)]
        handles = json.loads((pgdata / HANDLE_PIDS_FILE).read_text())
        assert sorted(handles) == sorted(run.pid for run in runs)

        for run in runs:
            run.communicate("\n", timeout=60)
        for i, run in enumerate(runs):
            assert run.returncode == 0, (tmp_path / f"run{i}.err").read_text()
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
            run.communicate()
    assert running_postmaster_pid(pgdata) is None
    assert _postgres_processes(pgdata) == []
    assert json.loads((pgdata / HANDLE_PIDS_FILE).read_text()) == []
