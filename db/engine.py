"""Engines for the one database the app uses: sync for the CLI and migrations, async for the GUI."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from db.config import AppPaths, libpq_url, mask_password, mask_url, parse_database_url
from db.embedded import EmbeddedServer
from db.errors import DatabaseUnavailable

CONNECT_TIMEOUT_S = 5


@dataclass(frozen=True)
class DatabaseTarget:
    """The database in use, as the UI and CLI describe it."""

    url: URL
    embedded: bool

    @property
    def display(self) -> str:
        kind = "embedded" if self.embedded else "remote"
        return f"{kind}: {mask_url(self.url)}"

    @property
    def libpq(self) -> str:
        return libpq_url(self.url)


class Database:
    """Owns the choice of server: a user-given URL, or the embedded server started on demand."""

    def __init__(self, paths: AppPaths, url: str | None = None) -> None:
        self.paths = paths
        self._given = parse_database_url(url) if url else None
        self._embedded: EmbeddedServer | None = None

    @property
    def is_embedded(self) -> bool:
        return self._given is None

    def open(self, *, keep_running: bool = False) -> DatabaseTarget:
        """Start the embedded server if it is the target (blocking: call it off the GUI thread)."""
        if self._given is not None:
            return DatabaseTarget(self._given, embedded=False)
        if self._embedded is None:
            self._embedded = EmbeddedServer(self.paths.pgdata)
        return DatabaseTarget(self._embedded.start(keep_running=keep_running), embedded=True)

    def close(self) -> None:
        if self._embedded is not None:
            self._embedded.release()
            self._embedded = None


def make_engine(url: URL, **kwargs: object) -> Engine:
    return create_engine(
        url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S}, **kwargs
    )


# Pool of the GUI's async engine. A load holds a connection for one statement (a few ms), so
# 50 concurrent loads queue briefly for 5 steady + 15 burst connections rather than opening 50:
# the server's default max_connections is 100 and a team server has other clients too.
# pool_timeout bounds the queueing.
POOL_SIZE = 5
POOL_MAX_OVERFLOW = 15
POOL_TIMEOUT_S = 30.0
POOL_RECYCLE_S = 1800
STATEMENT_TIMEOUT_MS = 5000
APPLICATION_NAME = "inspection-viewer"


def make_async_engine(
    url: URL,
    *,
    statement_timeout_ms: int = STATEMENT_TIMEOUT_MS,
    pool_size: int = POOL_SIZE,
    max_overflow: int = POOL_MAX_OVERFLOW,
    pool_timeout: float = POOL_TIMEOUT_S,
    application_name: str = APPLICATION_NAME,
) -> AsyncEngine:
    """The engine of the app's loads. The statement timeout is a connection option rather than
    a SET per transaction, so it costs no extra statement (query counts stay exact)."""
    return create_async_engine(
        url,
        # Loads are single SELECTs: autocommit spares the ROLLBACK round trip when a connection
        # returns to the pool. No pre-ping round trip either: a connection the server dropped
        # fails its statement, which the loader retries at once on a fresh connection (and
        # SQLAlchemy then replaces the whole pool).
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=False,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        # LIFO: the same few connections serve the loads, so their prepared statements and the
        # batch function's cached plan stay warm; the rest idle out of the way.
        pool_use_lifo=True,
        pool_recycle=POOL_RECYCLE_S,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_S,
            "options": f"-c statement_timeout={int(statement_timeout_ms)}",
            "application_name": application_name,
        },
    )


def check_reachable(target: DatabaseTarget) -> str:
    """Connect once and return the server version, or raise a message a user can act on."""
    try:
        with psycopg.connect(target.libpq, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(
            f"cannot connect to {mask_url(target.url)}: {mask_password(reason)}"
        ) from None
    return str(row[0]) if row else "unknown"
