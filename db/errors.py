"""Errors a user can act on, kept apart from bugs (which stay ordinary exceptions)."""

from __future__ import annotations

import errno
import logging


class KnownError(Exception):
    """A failure whose message is meant for the user: shown in the UI or the CLI, no traceback."""


class ConfigError(KnownError):
    """A bad option, URL or path given by the user."""


class DatabaseUnavailable(KnownError):
    """The database server cannot be reached or refused the connection."""


class EmbeddedServerError(KnownError):
    """The embedded PostgreSQL server could not be started or stopped."""


class MigrationError(KnownError):
    """A migration step failed; the message names the revision the database is left at."""


# A full or read-only disk: the user's to fix, wherever the write happened.
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})
# The command line's logging writes that file (viewer/cli/logs.py, db.config.LOG_FILE).
UNEXPECTED = (
    "Unexpected error ({name}). Details are in the log, logs/inspection-viewer.log in the data dir."
)


def user_message(exc: BaseException, logger: logging.Logger, what: str) -> str:
    """The one place a failure becomes text for the user.

    A KnownError says what went wrong in its own words. A database or network error (the
    outside world failing, not our code) gives its first line with any password hidden; a full
    or read-only disk says where. Anything else is a bug: logged with its traceback under `what`,
    and the user is told where to look.
    """
    if isinstance(exc, KnownError):
        return str(exc)
    from sqlalchemy import exc as sa_exc

    from db.config import mask_password

    if isinstance(exc, sa_exc.DBAPIError | sa_exc.TimeoutError | ConnectionError | TimeoutError):
        orig = getattr(exc, "orig", None) or exc
        lines = str(orig).strip().splitlines()
        return mask_password(lines[0]) if lines else type(orig).__name__
    if isinstance(exc, OSError) and exc.errno in DISK_ERRNOS:  # the disk, not our code
        from db.config import os_error_text

        return os_error_text(exc, "the data dir")
    logger.error("%s failed", what, exc_info=exc)
    return UNEXPECTED.format(name=type(exc).__name__)
