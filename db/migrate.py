"""Schema migrations driven from code: Alembic on a connection we own, with per-step timing."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine

import migrations
from db.errors import ConfigError

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


@dataclass(frozen=True)
class StepResult:
    """One revision applied (up or down), as the progress bar and the audit report show it."""

    revision: str
    description: str
    direction: str
    seconds: float


StepCallback = Callable[[StepResult], None]


def alembic_config(
    connection: Connection | None = None, on_step: StepCallback | None = None
) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    last = [time.perf_counter()]

    def on_version_apply(*, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        now = time.perf_counter()
        if on_step is not None:
            # For a downgrade, up_revision is the revision being undone.
            on_step(
                StepResult(
                    revision=str(step.up_revision_id),
                    description=str(step.up_revision.doc) if step.up_revision else "",
                    direction="upgrade" if step.is_upgrade else "downgrade",
                    seconds=now - last[0],
                )
            )
        last[0] = now

    cfg.attributes["on_version_apply"] = [on_version_apply]
    return cfg


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = script_directory().get_current_head()
    assert head is not None, "no migrations found"
    return head


def revision_chain() -> list[tuple[str, str]]:
    """(revision, description) from the first to the head."""
    revs = list(script_directory().walk_revisions("base", "heads"))
    return [(r.revision, str(r.doc)) for r in reversed(revs)]


# An optional revision followed by steps, as Alembic reads them: -1, +2, 0002_performance_v1-1.
_RELATIVE = re.compile(r"(?P<base>.*?)(?P<steps>[+-]\d+)")


def check_target(target: str) -> None:
    """Refuse a target Alembic cannot resolve, before anything runs, with the ones it can."""
    match = _RELATIVE.fullmatch(target)
    base = match["base"] if match else target
    if base in ("", "head", "heads", "base"):
        return
    try:
        script_directory().get_revisions(base)
    except CommandError:
        known = ", ".join(rev for rev, _ in revision_chain())
        raise ConfigError(
            f"unknown revision {target!r}: use one of {known}, head, base, or -N / +N steps"
        ) from None


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _autocommit(engine: Engine) -> Iterator[Connection]:
    # Alembic manages transactions itself (one per revision, none around CONCURRENTLY blocks).
    with engine.connect() as conn:
        yield conn


@contextmanager
def _target_errors(action: str, target: str) -> Iterator[None]:
    # Alembic resolves the target into steps before it runs the first one, and says in a
    # CommandError when it cannot (a downgrade "up", more steps than there are): the user's
    # target, not a failed step.
    check_target(target)
    try:
        yield
    except CommandError as exc:
        raise ConfigError(f"cannot {action} to {target!r}: {exc}") from None


def upgrade(engine: Engine, target: str = "head", on_step: StepCallback | None = None) -> None:
    with _target_errors("upgrade", target), _autocommit(engine) as conn:
        command.upgrade(alembic_config(conn, on_step), target)
        conn.commit()


def downgrade(engine: Engine, target: str, on_step: StepCallback | None = None) -> None:
    with _target_errors("downgrade", target), _autocommit(engine) as conn:
        command.downgrade(alembic_config(conn, on_step), target)
        conn.commit()
