"""Integration fixtures: the default demo dataset, generated once per test session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from db.demo import DemoSummary, generate_demo
from db.engine import make_engine
from db.migrate import upgrade
from db.storage import LocalStore


@dataclass(frozen=True)
class DemoDatabase:
    """A migrated database holding the default demo, and the folder with its photos."""

    engine: Engine
    media_dir: Path
    summary: DemoSummary


@pytest.fixture(scope="session")
def demo_db(
    create_database: Callable[[str], URL], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoDatabase]:
    """The default DemoSpec (48 inspections, the large one included). Treat it as read-only:
    tests that write should do it in a rolled-back transaction."""
    engine = make_engine(create_database("demo"))
    upgrade(engine)
    media_dir = tmp_path_factory.mktemp("demo-media")
    summary = generate_demo(engine, LocalStore(media_dir))
    yield DemoDatabase(engine=engine, media_dir=media_dir, summary=summary)
    engine.dispose()


@pytest.fixture(scope="session")
def server_calls() -> Callable[[Engine, str], int]:
    """Calls pg_stat_statements has counted for statements of this database matching a LIKE
    pattern: the server's side of query counting."""

    def calls(engine: Engine, pattern: str) -> int:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"
                        " WHERE dbid = (SELECT oid FROM pg_database"
                        "               WHERE datname = current_database())"
                        " AND query LIKE :p"
                    ),
                    {"p": pattern},
                ).scalar_one()
            )

    return calls
