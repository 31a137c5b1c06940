"""Alembic environment: runs on a connection handed in by db.migrate, or on the config's URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from db.models import Base

config = context.config
target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # Each revision in its own transaction, so CONCURRENTLY blocks can step outside it and a
        # failure leaves the database at the last completed revision.
        transaction_per_migration=True,
        # db.migrate times each step through this hook for its progress bar and audit report.
        on_version_apply=config.attributes.get("on_version_apply", ()),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as conn:
        run_on(conn)


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) mode is not supported: CONCURRENTLY needs a live server")
run_online()
