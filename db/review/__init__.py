"""Review: verdicts on checklist items, flags on photos, decisions on inspections (append-only).

records.py holds the frozen records and their rules, queries.py the database side (the state of
an inspection in one statement), sync.py pushes an offline bundle's journal to the database.
"""

from db.review.queries import (
    append_review,
    database_identity,
    load_history,
    load_review_state,
    read_review_state,
    review_baseline,
)
from db.review.records import (
    COMMENT_MAX_CHARS,
    LABELS,
    REVIEWER_MAX_CHARS,
    Decision,
    PhotoFlag,
    ReviewEntry,
    ReviewInputError,
    ReviewKind,
    ReviewRecord,
    ReviewState,
    Verdict,
)

__all__ = [
    "COMMENT_MAX_CHARS",
    "LABELS",
    "REVIEWER_MAX_CHARS",
    "Decision",
    "PhotoFlag",
    "ReviewEntry",
    "ReviewInputError",
    "ReviewKind",
    "ReviewRecord",
    "ReviewState",
    "Verdict",
    "append_review",
    "database_identity",
    "load_history",
    "load_review_state",
    "read_review_state",
    "review_baseline",
]
