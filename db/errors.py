"""Errors a user can act on, kept apart from bugs (which stay ordinary exceptions)."""

from __future__ import annotations


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
