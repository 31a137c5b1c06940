"""Where the data lives and which database to use, resolved from options and environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import platformdirs
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from db.errors import ConfigError

APP_NAME = "inspection-viewer"
ENV_HOME = "INSPECTION_VIEWER_HOME"
ENV_DATABASE_URL = "INSPECTION_VIEWER_DATABASE_URL"
ENV_MEDIA_DIR = "INSPECTION_VIEWER_MEDIA_ROOT"
EMBEDDED_DATABASE = "inspection_viewer"


@dataclass(frozen=True)
class AppPaths:
    """The folders the app writes to. Everything lives under one data dir unless told otherwise."""

    data_dir: Path
    # Where the photos are, as db.storage.open_store takes it: a file:// URL (S3 comes next).
    media_url: str

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"


def resolve_paths(
    data_dir: str | os.PathLike[str] | None = None, media_dir: str | os.PathLike[str] | None = None
) -> AppPaths:
    """Option beats environment beats the platform default."""
    raw = data_dir or os.environ.get(ENV_HOME) or platformdirs.user_data_dir(APP_NAME)
    base = Path(raw).expanduser().resolve()
    if base.exists() and not base.is_dir():
        raise ConfigError(f"data dir {base} exists and is not a folder")
    raw_media = media_dir or os.environ.get(ENV_MEDIA_DIR)
    media = Path(raw_media).expanduser().resolve() if raw_media else base / "media"
    if media.exists() and not media.is_dir():
        raise ConfigError(f"media folder {media} exists and is not a folder")
    return AppPaths(data_dir=base, media_url=media.as_uri())


def database_url_from_env(option: str | None) -> str | None:
    return option or os.environ.get(ENV_DATABASE_URL) or None


def parse_database_url(raw: str) -> URL:
    """Check a user-given URL and turn it into the psycopg 3 driver's URL.

    Accepts the forms people paste: postgres://, postgresql://, postgresql+psycopg://.
    """
    try:
        url = make_url(raw.strip())
    except ArgumentError:
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


def libpq_url(url: URL) -> str:
    """The same URL in the form psql and psycopg.connect accept (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def mask_url(url: URL | str) -> str:
    """A URL safe to show: the password, if any, replaced by ***."""
    if isinstance(url, str):
        return mask_password(url)
    shown = url.set(drivername=url.drivername.partition("+")[0])
    # render_as_string(hide_password=True) percent-encodes the stars, and the socket folder in
    # ?host= too; unquote both for people to read.
    rendered = unquote(shown.render_as_string(hide_password=True))
    if not url.password:
        rendered = rendered.replace(":***@", "@", 1)
    return rendered


def mask_password(text: str) -> str:
    """Best effort for strings that may not even parse: hide user:password@ credentials."""
    import re

    text = re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)
    return re.sub(r"(password=)[^&\s]*", r"\1***", text, flags=re.IGNORECASE)
