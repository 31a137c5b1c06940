"""Statements seen the Django Debug Toolbar way: elided SQL, similar and duplicate counts, N+1."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from db.diagnostics.figures import N_PLUS_ONE_THRESHOLD, ActionSummary, NPlusOne, StatementRow
from db.metrics import ActionRecord

_WHITESPACE = re.compile(r"\s+")
_STRING = re.compile(r"'(?:[^']|'')*'")
# psycopg's %(name)s and %s, libpq's $1, SQLite's ?, SQLAlchemy's :name (not a ::cast).
_PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|\$\d+|(?<![:\w]):\w+|\?")
_NUMBER = re.compile(r"(?<![\w.$])-?\d+(?:\.\d+)?(?![\w.])")
_IN_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)+\s*\)")
_INSPECTION_LABEL = re.compile(r"\binspection=(\d+)\b")


def elide_sql(sql: str) -> str:
    """The statement with every parameter and literal as `?`, on one line: the key of "similar"
    (as Sentry normalises queries) and what the panel shows."""
    text_ = _STRING.sub("?", sql)
    text_ = _PLACEHOLDER.sub("?", text_)
    text_ = _NUMBER.sub("?", text_)
    return _IN_LIST.sub("(...)", one_line(text_))


def one_line(sql: str) -> str:
    """Every run of whitespace as one space, the ends trimmed."""
    return _WHITESPACE.sub(" ", sql).strip()


def short_sql(sql: str) -> str:
    """The select list collapsed to "…" (Django Debug Toolbar's SELECT ••• FROM), so the table
    column shows what distinguishes a statement: its tables and conditions."""
    upper = sql.upper()
    if not upper.startswith("SELECT "):
        return sql
    depth = 0
    i = len("SELECT ")
    while i < len(sql):
        ch = sql[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and upper.startswith(" FROM ", i):
            return "SELECT … " + sql[i + 1 :]
        i += 1
    return sql


def display_label(label: str, reference_of: Callable[[int], str | None] | None) -> str:
    """`load_media inspection=42` as `load_media inspection=AB-1042` when the code is known."""
    if reference_of is None:
        return label

    def swap(match: re.Match[str]) -> str:
        reference = reference_of(int(match.group(1)))
        return f"inspection={reference}" if reference else match.group(0)

    return _INSPECTION_LABEL.sub(swap, label)


def _inspection_id(label: str) -> int | None:
    match = _INSPECTION_LABEL.search(label)
    return int(match.group(1)) if match else None


def is_cancelled(record: ActionRecord) -> bool:
    return not record.ok and record.error is None


@dataclass(frozen=True)
class ActionAnalysis:
    """One finished action seen the Django Debug Toolbar way, with Sentry's N+1 rule."""

    summary: ActionSummary
    statements: tuple[StatementRow, ...]
    n_plus_one: tuple[NPlusOne, ...]


def analyze_action(
    record: ActionRecord,
    label: str,
    *,
    slow_threshold_s: float,
    n_plus_one_threshold: int = N_PLUS_ONE_THRESHOLD,
) -> ActionAnalysis:
    """Similar (same SQL) and duplicate (same SQL and parameters) counts within the action, and
    the statements it ran `n_plus_one_threshold` or more times with only the parameters changed."""
    keys = [elide_sql(s.sql) for s in record.statements]
    params = [s.parameters for s in record.statements]
    similar = Counter(keys)
    duplicates = Counter(zip(keys, params, strict=True))
    total_s: dict[str, float] = {}
    for key, s in zip(keys, record.statements, strict=True):
        total_s[key] = total_s.get(key, 0.0) + s.seconds
    summary = ActionSummary(
        id=record.id,
        kind=record.kind,
        label=label,
        inspection_id=_inspection_id(record.label),
        statement_count=record.statement_count,
        strategy=record.strategy,
        duration_ms=record.seconds * 1000,
        rows=record.rows,
        retries=record.retries,
        ok=record.ok,
        cancelled=is_cancelled(record),
        error=record.error,
        finished_at=record.finished_at,
        similar=sum(n for n in similar.values() if n > 1),
        duplicates=sum(n for n in duplicates.values() if n > 1),
    )
    rows = tuple(
        StatementRow(
            action_id=record.id,
            action=label,
            position=i,
            sql=key,
            parameters=param,
            duration_ms=s.seconds * 1000,
            rows=s.rows,
            similar=similar[key],
            duplicates=duplicates[key, param],
            error=s.error,
            slow=s.seconds >= slow_threshold_s,
        )
        for i, (key, param, s) in enumerate(zip(keys, params, record.statements, strict=True), 1)
    )
    warnings = tuple(
        NPlusOne(record.id, label, key, n, total_s[key] * 1000)
        for key, n in similar.most_common()
        if n >= n_plus_one_threshold
    )
    return ActionAnalysis(summary, rows, warnings)
