"""Where the data lives and which database to use, resolved from options and environment."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

import platformdirs

from db.errors import ConfigError

APP_NAME = "inspection-viewer"
ENV_HOME = "INSPECTION_VIEWER_HOME"
if TYPE_CHECKING:  # SQLAlchemy loads when a URL is parsed, not with this module (fast --help)
    from sqlalchemy.engine import URL

ENV_DATABASE_URL = "INSPECTION_VIEWER_DATABASE_URL"
ENV_MEDIA_DIR = "INSPECTION_VIEWER_MEDIA_ROOT"
ENV_MEDIA_URL = "INSPECTION_VIEWER_MEDIA_URL"
ENV_MEDIA_CACHE_MB = "INSPECTION_VIEWER_MEDIA_CACHE_MB"
# Downloaded photos from a remote media store (S3) are kept up to this much, LRU.
DEFAULT_MEDIA_CACHE_MB = 2048
EMBEDDED_DATABASE = "inspection_viewer"
LOG_NAME = f"{APP_NAME}.log"
SETTINGS_NAME = "settings.ini"
MASK = "***"
# Why a folder cannot be written: a full disk, a read-only one, no permission.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})


@dataclass(frozen=True)
class AppPaths:
    """The folders the app writes to. By default the XDG layout (platformdirs): the database in
    the user data dir, settings in the config dir, caches in the cache dir (which backups skip),
    the log in the state dir. With --data-dir or INSPECTION_VIEWER_HOME, and wherever the three
    `*_home` fields are None, everything lives under the one data dir (tests, portable use)."""

    data_dir: Path
    # Where the photos are, as db.storage.open_store takes it: file:// or s3://bucket/prefix.
    media_url: str
    # The local cache of photos downloaded from a remote store, in bytes.
    media_cache_bytes: int = DEFAULT_MEDIA_CACHE_MB * 1024 * 1024
    config_home: Path | None = None
    cache_home: Path | None = None
    log_home: Path | None = None

    @property
    def single_folder(self) -> bool:
        return self.config_home is None and self.cache_home is None and self.log_home is None

    @property
    def media_cache_dir(self) -> Path:
        return self.cache_dir / "media"

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def config_dir(self) -> Path:
        return self.config_home or self.data_dir

    @property
    def settings_file(self) -> Path:
        return self.config_dir / SETTINGS_NAME

    @property
    def cache_dir(self) -> Path:
        """Thumbnails, extracted bundles, downloaded photos: all of it can be made again."""
        return self.cache_home or self.data_dir / "cache"

    @property
    def log_dir(self) -> Path:
        return self.log_home or self.data_dir / "logs"

    @property
    def log_file(self) -> Path:
        return self.log_dir / LOG_NAME


def resolve_paths(
    data_dir: str | os.PathLike[str] | None = None,
    media_dir: str | os.PathLike[str] | None = None,
    media_url: str | None = None,
    media_cache_mb: int | None = None,
) -> AppPaths:
    """Option beats environment beats the platform default. The data dir is created if need be
    and must take a file: every command writes there (reports, the embedded database)."""
    chosen = data_dir or os.environ.get(ENV_HOME)
    raw = chosen or platformdirs.user_data_dir(APP_NAME)
    base = Path(raw).expanduser().resolve()
    if base.exists() and not base.is_dir():
        raise ConfigError(f"data dir {base} exists and is not a folder")
    _check_writable(base)
    if media_dir and media_url:
        raise ConfigError("give --media-root or --media-url, not both")
    url = media_url or (None if media_dir else os.environ.get(ENV_MEDIA_URL)) or None
    if url is not None:
        url = _checked_media_url(url)
    else:
        raw_media = media_dir or os.environ.get(ENV_MEDIA_DIR)
        media = Path(raw_media).expanduser().resolve() if raw_media else base / "media"
        if media.exists() and not media.is_dir():
            raise ConfigError(f"media folder {media} exists and is not a folder")
        url = media.as_uri()
    cache_mb = media_cache_mb if media_cache_mb is not None else _env_int(ENV_MEDIA_CACHE_MB)
    cache_bytes = (cache_mb or DEFAULT_MEDIA_CACHE_MB) * 1024 * 1024
    paths = AppPaths(data_dir=base, media_url=url, media_cache_bytes=cache_bytes)
    if chosen:
        return paths
    return replace(
        paths,
        config_home=_xdg(platformdirs.user_config_dir(APP_NAME)),
        cache_home=_xdg(platformdirs.user_cache_dir(APP_NAME)),
        log_home=_xdg(platformdirs.user_log_dir(APP_NAME)),
    )


def _xdg(raw: str) -> Path:
    return Path(raw).expanduser().resolve()


def _checked_media_url(raw: str) -> str:
    """A media URL as open_store takes it: a folder becomes file://, s3:// is checked."""
    text = raw.strip()
    lowered = text.lower()
    if lowered.startswith(("s3://", "s3a://")):
        from db.storage.s3_config import parse_s3_url  # no import cycle at module load

        parse_s3_url(text)
        return text
    if lowered.startswith("file://"):
        return text
    if "://" in text:
        scheme = text.split("://", 1)[0][:20]
        raise ConfigError(f"unsupported media URL {scheme}:// (use file:// or s3://bucket/prefix)")
    media = Path(text).expanduser().resolve()
    if media.exists() and not media.is_dir():
        raise ConfigError(f"media folder {media} exists and is not a folder")
    return media.as_uri()


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name)
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} is not a whole number: {raw[:40]!r}") from None
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {value}")
    return value


def _check_writable(folder: Path) -> None:
    """Create `folder` and write a probe file in it, so that a full disk or a folder the user
    may not write is one clear message now rather than a traceback from the first writer."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=folder)
        try:
            os.write(fd, b"inspection-viewer\n")
        finally:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(probe)
    except OSError as exc:
        if folder.is_dir() or exc.errno in WRITE_ERRNOS:
            # Named as the folder: the probe's name would only puzzle.
            reason = os_error_text(OSError(exc.errno, exc.strerror), folder)
        else:  # /proc/x, a file on the way, a missing drive
            reason = f"cannot create the data dir {folder}: {exc.strerror or exc}"
        raise ConfigError(
            f"{reason} (choose another folder with --data-dir or {ENV_HOME})"
        ) from None


def os_error_text(exc: OSError, where: str | os.PathLike[str]) -> str:
    """One line for a file system failure while writing at `where` (the path the error names
    wins): the full disk, the read-only disk and the missing permission in the user's words."""
    path = exc.filename if exc.filename is not None else where
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"disk full at {path}: free some space and try again"
    if exc.errno == errno.EROFS:
        return f"cannot write to {path}: the file system is read-only"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot write to {path}: permission denied"
    return f"cannot write to {path}: {exc.strerror or exc}"


def database_url_from_env(option: str | None) -> str | None:
    return option or os.environ.get(ENV_DATABASE_URL) or None


def parse_database_url(raw: str) -> URL:
    """Check a user-given URL and turn it into the psycopg 3 driver's URL.

    Accepts the forms people paste: postgres://, postgresql://, postgresql+psycopg://.
    """
    from sqlalchemy.exc import ArgumentError

    try:
        url = _parse(raw)
    except (ArgumentError, ValueError):
        raise ConfigError(
            f"not a database URL: {mask_password(raw)!r} "
            "(expected postgresql://user:password@host:5432/dbname)"
        ) from None
    # get_backend_name() would try to load a "postgres" dialect that SQLAlchemy no longer has.
    backend, _, driver = url.drivername.partition("+")
    if backend not in ("postgresql", "postgres"):
        raise ConfigError(
            f"unsupported database {backend!r} in {mask_url(url)}: the app needs PostgreSQL"
        )
    if driver not in ("", "psycopg", "psycopg2"):
        raise ConfigError(
            f"unsupported driver {driver!r}: use postgresql:// or postgresql+psycopg://"
        )
    if not url.database:
        raise ConfigError(f"the database URL {mask_url(url)} names no database")
    return url.set(drivername="postgresql+psycopg")


def _parse(raw: str) -> URL:
    """make_url, except that the credentials end at the last '@' before the host: a password
    with an unencoded '@' is still the password (SQLAlchemy would take its tail for the host,
    and show it)."""
    from sqlalchemy.engine import make_url

    url = make_url(raw.strip())
    if url.host and "@" in url.host:
        extra, _, host = url.host.rpartition("@")
        extra = unquote(extra)
        if url.password is not None:
            url = url.set(password=f"{url.password}@{extra}", host=host)
        else:
            url = url.set(username=f"{url.username or ''}@{extra}", host=host)
    return url


def libpq_url(url: URL) -> str:
    """The same URL in the form psql and psycopg.connect accept (no SQLAlchemy driver suffix).

    For programs, never for people: the password is in it. People get mask_url()."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _secret_key(key: str) -> bool:
    # password, sslpassword, PGPASSWORD: whatever the case.
    return key.lower().endswith("password")


def mask_url(url: URL | str) -> str:
    """The one way a database URL is shown to people: the password, and any query parameter
    that carries one (?password=, ?sslpassword=), replaced by ***.

    A string is parsed first; text that is no URL at all goes through mask_password()."""
    if isinstance(url, str):
        from sqlalchemy.exc import ArgumentError

        text = url
        try:
            url = _parse(text)
        except (ArgumentError, ValueError):
            return mask_password(text)
    query = {key: MASK if _secret_key(key) else value for key, value in url.query.items()}
    shown = url.set(drivername=url.drivername.partition("+")[0], query=query)
    if not url.password:  # an empty password is no password: no ":***" (set() skips None)
        shown = shown._replace(password=None)
    # render_as_string(hide_password=True) percent-encodes the stars, and the socket folder in
    # ?host= too; unquote both for people to read. mask_password() is the last word, in case
    # the unquoting made something look like a secret again.
    return mask_password(unquote(shown.render_as_string(hide_password=True)))


# user:password@ in a URL, the credentials ending at the last '@' before the path: a password
# with an unencoded '@' must not leave its tail behind.
_URL_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*):[^/?#\s]*@")
# The same where the password holds a '/' (the authority then seems to end early).
_URL_CREDENTIALS_SLASH = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*):[^@\s]*@")
# ?password=... and &sslpassword=... in a URL's query.
_QUERY_SECRET = re.compile(r"([?&][\w.-]*password=)[^&#\s]*", re.IGNORECASE)
# password=... in a libpq keyword string (the value may be quoted) or an environment listing.
_KEYWORD_SECRET = re.compile(
    r"(?<![\w?&.-])([\w.-]*password\s*=\s*)('(?:[^'\\]|\\.)*'?|\S*)", re.IGNORECASE
)
# PASSWORD '...' in SQL (ALTER ROLE, CREATE USER), as the server may quote a statement.
_SQL_SECRET = re.compile(r"(\bpassword\s+)'(?:[^']|'')*'", re.IGNORECASE)
# S3 keys in a config line or an environment listing (aws_secret_access_key = ..., the
# AWS_SECRET_ACCESS_KEY=... variable, a session token), in any case.
_S3_SECRET = re.compile(
    r"((?:aws_)?(?:secret_access_key|session_token|secret_key)['\"]?\s*[=:]\s*['\"]?)[^\s'\",}]+",
    re.IGNORECASE,
)
# 'password': '...' in the repr of a dict of connection arguments.
_MAPPING_SECRET = re.compile(r"""(['"][\w.-]*password['"]\s*:\s*)(['"]).*?\2""", re.IGNORECASE)


def mask_password(text: str) -> str:
    """Hide every password in free text (an error message, a log line, a URL that does not
    parse): URL credentials, query parameters, libpq keywords, SQL's PASSWORD '...'."""
    text = _URL_CREDENTIALS.sub(rf"\1:{MASK}@", text)
    text = _URL_CREDENTIALS_SLASH.sub(rf"\1:{MASK}@", text)
    text = _QUERY_SECRET.sub(rf"\g<1>{MASK}", text)
    text = _KEYWORD_SECRET.sub(rf"\g<1>{MASK}", text)
    text = _SQL_SECRET.sub(rf"\g<1>'{MASK}'", text)
    text = _S3_SECRET.sub(rf"\g<1>{MASK}", text)
    return _MAPPING_SECRET.sub(rf"\g<1>'{MASK}'", text)
