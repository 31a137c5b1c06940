"""What a failed database call means for the next step: retry, fall back, or give up."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

import psycopg
from sqlalchemy import exc as sa_exc

from db.config import mask_password

# SQLSTATEs worth another try: the same statement may well succeed in a moment.
TRANSIENT_SQLSTATES = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "55P03",  # lock_not_available
        "57014",  # query_canceled: our statement timeout
        "57P01",  # admin_shutdown: pg_terminate_backend, server stopping
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now: server starting or restarting
        "53300",  # too_many_connections
        "08000",
        "08001",
        "08003",
        "08004",
        "08006",  # connection exceptions
    }
)
# SQLSTATEs that mean "this server will not run the batch statement": use the fallback.
FALLBACK_SQLSTATES = frozenset(
    {
        "42883",  # undefined_function: database below migration 0002
        "42501",  # insufficient_privilege
        "42P01",  # undefined_table (the function's log table missing)
    }
)


class Failure(Enum):
    TRANSIENT = "transient"
    FALLBACK = "fallback"
    FATAL = "fatal"


def is_outside_failure(exc: BaseException) -> bool:
    """The database or the network failing, as opposed to a bug in our code."""
    return isinstance(exc, sa_exc.DBAPIError | sa_exc.TimeoutError | TimeoutError | OSError)


def classify(exc: BaseException) -> Failure:
    """Decide what an exception from a load means for the next step."""
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return Failure.TRANSIENT
        orig = exc.orig
        sqlstate = getattr(orig, "sqlstate", None)
        if sqlstate in TRANSIENT_SQLSTATES:
            return Failure.TRANSIENT
        if sqlstate in FALLBACK_SQLSTATES:
            return Failure.FALLBACK
        # No SQLSTATE at all: the connection itself failed (refused, reset, closed).
        if sqlstate is None and isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError):
            return Failure.TRANSIENT
        return Failure.FATAL
    if isinstance(exc, sa_exc.TimeoutError | TimeoutError | ConnectionError):
        return Failure.TRANSIENT
    return Failure.FATAL


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: by default about 100, 200, 400, 800 ms, then give up."""

    attempts: int = 5
    base_delay_s: float = 0.1
    factor: float = 2.0
    max_delay_s: float = 5.0
    jitter: float = 0.2  # each delay is scaled by a random factor in [1 - j, 1 + j]

    def delays(self, rng: random.Random) -> Iterator[float]:
        for retry in range(self.attempts - 1):
            delay = min(self.base_delay_s * self.factor**retry, self.max_delay_s)
            yield delay * (1 + self.jitter * (2 * rng.random() - 1))


def stale_pooled_connection(exc: BaseException) -> bool:
    return isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated


def reason_of(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return mask_password(lines[0]) if lines else type(orig).__name__
