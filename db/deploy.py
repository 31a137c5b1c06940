"""`db upgrade` and `db downgrade` as a careful DBA runs them: pre-flight, steps, audit."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from db import migrate
from db.config import mask_password
from db.errors import DatabaseUnavailable, KnownError, MigrationError
from db.performance import ValidationCheck, validate_optimization

MIN_SERVER_VERSION = 130000
# A transaction open this long blocks CREATE INDEX CONCURRENTLY until it ends.
LONG_TRANSACTION_S = 60
OUR_TABLES = ("inspections", "checklist_items", "media")


@dataclass(frozen=True)
class PreflightCheck:
    name: str
    status: str  # pass | warn | fail
    detail: str


@dataclass
class AuditReport:
    """What a run did, written as JSON and Markdown under <data dir>/reports."""

    action: str
    database: str
    target: str
    started_at: str
    from_revision: str | None = None
    to_revision: str | None = None
    finished_at: str | None = None
    seconds: float = 0.0
    success: bool = False
    error: str | None = None
    preflight: list[PreflightCheck] = field(default_factory=list)
    steps: list[migrate.StepResult] = field(default_factory=list)
    validation: list[ValidationCheck] = field(default_factory=list)
    rollback_command: str | None = None
    files: list[str] = field(default_factory=list)

    @property
    def validation_passed(self) -> bool:
        return bool(self.validation) and all(c.passed for c in self.validation)


def preflight(engine: Engine) -> list[PreflightCheck]:
    """Checks before touching the schema. A `fail` stops the run before any step."""
    checks: list[PreflightCheck] = []
    try:
        with engine.connect() as conn:
            version_num = int(conn.execute(text("SHOW server_version_num")).scalar_one())
            version = str(conn.execute(text("SHOW server_version")).scalar_one())
            checks.append(PreflightCheck("server reachable", "pass", f"PostgreSQL {version}"))
            checks.append(
                PreflightCheck(
                    "server version",
                    "pass" if version_num >= MIN_SERVER_VERSION else "fail",
                    f"{version} (13 or newer needed)",
                )
            )
            current = migrate.current_revision(conn)
            head = migrate.head_revision()
            checks.append(
                PreflightCheck(
                    "current revision",
                    "pass",
                    f"{current or 'base (empty)'}; head is {head}"
                    + (" (up to date)" if current == head else ""),
                )
            )
            blockers = conn.execute(
                text(
                    "SELECT pid, now() - xact_start AS age, left(query, 60) AS query "
                    "FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL "
                    "AND now() - xact_start > make_interval(secs => :limit) ORDER BY xact_start"
                ),
                {"limit": LONG_TRANSACTION_S},
            ).all()
            checks.append(
                PreflightCheck(
                    "long-running transactions",
                    "warn" if blockers else "pass",
                    "; ".join(f"pid {b.pid} open {b.age} ({b.query!r})" for b in blockers)
                    + " - CREATE INDEX CONCURRENTLY waits for them to end"
                    if blockers
                    else f"none open longer than {LONG_TRANSACTION_S} s",
                )
            )
            trgm = conn.execute(
                text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
            ).first()
            checks.append(
                PreflightCheck(
                    "pg_trgm available",
                    "pass" if trgm else "fail",
                    "needed by the search index" + ("" if trgm else ": install PostgreSQL contrib"),
                )
            )
    except DBAPIError as exc:
        reason = mask_password(str(exc.orig).strip().splitlines()[0]) if exc.orig else str(exc)
        raise DatabaseUnavailable(f"pre-flight: cannot reach the database: {reason}") from None
    return checks


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def run(
    engine: Engine,
    *,
    action: str,
    target: str,
    database: str,
    reports_dir: Path,
    rollback_hint: Callable[[str], str],
    on_step: migrate.StepCallback | None = None,
) -> AuditReport:
    """Apply an upgrade or downgrade with pre-flight and post-validation; always write the report.

    `rollback_hint(revision)` renders the exact command that returns to `revision`.
    """
    report = AuditReport(action=action, database=database, target=target, started_at=_now())
    started = time.perf_counter()
    try:
        migrate.check_target(target)  # a typo is refused before anything connects
        report.preflight = preflight(engine)
        with engine.connect() as conn:
            report.from_revision = migrate.current_revision(conn)
        report.rollback_command = rollback_hint(report.from_revision or "base")
        failed = [c for c in report.preflight if c.status == "fail"]
        if failed:
            raise MigrationError(
                "pre-flight failed: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)
            )

        _migrate(engine, report, on_step)
        with engine.connect() as conn:
            report.to_revision = migrate.current_revision(conn)
            if report.to_revision is not None and action == "upgrade":
                # Fresh statistics are one of the checks, and the planner needs them anyway.
                conn.execute(text("ANALYZE " + ", ".join(OUR_TABLES)))
                conn.commit()
        report.validation = validation_if_present(engine)
        report.success = True
    except Exception as exc:  # whatever stopped the run, the report says what it was
        report.error = error_text(exc)
        raise
    finally:
        report.finished_at = _now()
        report.seconds = time.perf_counter() - started
        report.files = [str(p) for p in write_report(report, reports_dir)]
    return report


def _migrate(engine: Engine, report: AuditReport, on_step: migrate.StepCallback | None) -> None:
    """Run the report's action to its target, each step recorded; a failure says where the
    database was left."""

    def step(result: migrate.StepResult) -> None:
        report.steps.append(result)
        if on_step is not None:
            on_step(result)

    action, target = report.action, report.target
    try:
        if action == "upgrade":
            migrate.upgrade(engine, target, on_step=step)
        else:
            migrate.downgrade(engine, target, on_step=step)
    except SQLAlchemyError as exc:
        with engine.connect() as conn:
            now_at = migrate.current_revision(conn) or "base"
        reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
        raise MigrationError(
            f"{action} to {target} failed after {len(report.steps)} step(s): "
            f"{mask_password(reason)}. The database is at revision {now_at}."
        ) from exc


def error_text(exc: BaseException) -> str:
    """The report's one line for what stopped a run; a KnownError in its own words."""
    if isinstance(exc, KnownError):
        return str(exc)
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {mask_password(lines[0])}" if lines else type(orig).__name__


def validation_if_present(engine: Engine) -> list[ValidationCheck]:
    """validate_optimization() when the database has it (not below revision 2)."""
    with engine.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_proc WHERE proname = 'validate_optimization'")
        ).first()
        return validate_optimization(conn) if exists else []


def write_report(report: AuditReport, reports_dir: Path) -> list[Path]:
    reports_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    base = reports_dir / f"{report.action}-{stamp}"
    data = asdict(report)
    json_path, md_path = base.with_suffix(".json"), base.with_suffix(".md")
    data["files"] = [str(json_path), str(md_path)]
    # Reports are kept and passed around: every text in them is masked once more, whatever
    # the server said (a pre-flight detail quotes other sessions' statements).
    json_path.write_text(json.dumps(_masked(data), indent=2, default=str) + "\n")
    md_path.write_text(mask_password(render_markdown(report)))
    return [json_path, md_path]


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_password(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


def render_markdown(r: AuditReport) -> str:
    lines = [
        f"# Inspection Viewer: db {r.action}",
        "",
        f"- Database: `{r.database}`",
        f"- Started: {r.started_at}; finished: {r.finished_at}; {r.seconds:.2f} s",
        f"- Revision: {r.from_revision or 'base'} -> {r.to_revision or 'base'} (target {r.target})",
        f"- Result: {'success' if r.success else 'FAILED'}",
    ]
    if r.error:
        lines.append(f"- Error: {r.error}")
    if r.rollback_command:
        lines += ["", "## Rollback", "", "```", r.rollback_command, "```"]
    lines += ["", "## Pre-flight", "", "| check | status | detail |", "|---|---|---|"]
    lines += [f"| {c.name} | {c.status} | {c.detail} |" for c in r.preflight]
    lines += [
        "",
        "## Steps",
        "",
        "| revision | direction | seconds | description |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {s.revision} | {s.direction} | {s.seconds:.3f} | {s.description} |" for s in r.steps
    ]
    if r.validation:
        lines += ["", "## Validation", "", "| check | status | detail |", "|---|---|---|"]
        lines += [f"| {c.check_name} | {c.status} | {c.detail} |" for c in r.validation]
    return "\n".join(lines) + "\n"
