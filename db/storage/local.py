"""LocalStore: photos in a folder on this machine (the default, and `--media-root`)."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from db.errors import ConfigError
from db.files import write_atomic
from db.storage.base import (
    MediaDamaged,
    MediaForbidden,
    MediaMissing,
    MediaStore,
    MediaTooLarge,
    ObjectInfo,
    StorageError,
    StoreUnreachable,
    check_key,
)


def error_for_os_error(key: str, exc: OSError) -> StorageError:
    """The one reading of an OSError met while reading a photo file."""
    if isinstance(exc, FileNotFoundError) or exc.errno == errno.ENOTDIR:
        return MediaMissing(key, "File not found")
    if isinstance(exc, IsADirectoryError):
        return MediaDamaged(key, "A folder, not a file")
    if isinstance(exc, PermissionError):
        return MediaForbidden(key, "Permission denied")
    return StoreUnreachable(key, f"Cannot read the file ({exc.strerror or exc})")


class LocalStore(MediaStore):
    """Keys are paths below `root`; a key that would leave it is refused before any I/O."""

    writable = True

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().absolute()
        self.display = str(self.root)

    @property
    def url(self) -> str:
        return self.root.as_uri()

    def path_of(self, key: str) -> Path:
        """The file a key names (checked, not necessarily existing)."""
        return self.root.joinpath(*check_key(key))

    def describe(self, key: str) -> str:
        try:
            return str(self.path_of(key))
        except StorageError:
            return key

    def stat(self, key: str) -> ObjectInfo:
        path = self.path_of(key)
        try:
            info = path.stat()
        except OSError as exc:
            raise error_for_os_error(key, exc) from exc
        if not stat.S_ISREG(info.st_mode):
            raise MediaDamaged(key, "Not a regular file")
        return ObjectInfo(key, info.st_size, info.st_mtime)

    def read(self, key: str, max_bytes: int | None = None) -> bytes:
        path = self.path_of(key)
        try:
            with path.open("rb") as f:
                info = os.fstat(f.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise MediaDamaged(key, "Not a regular file")
                if max_bytes is not None and info.st_size > max_bytes:
                    raise MediaTooLarge(
                        key,
                        f"File of {info.st_size / 1e6:.0f} MB is over the "
                        f"{max_bytes / 1e6:.0f} MB limit",
                    )
                if max_bytes is None:
                    return f.read()
                data = f.read(max_bytes + 1)  # bounded even if the file grows meanwhile
        except OSError as exc:
            raise error_for_os_error(key, exc) from exc
        if len(data) > max_bytes:
            raise MediaTooLarge(key, f"File is over the {max_bytes / 1e6:.0f} MB limit")
        return data

    def read_range(self, key: str, start: int, length: int) -> bytes:
        if start < 0 or length < 0:
            raise ValueError("start and length must not be negative")
        path = self.path_of(key)
        try:
            with path.open("rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    raise MediaDamaged(key, "Not a regular file")
                f.seek(start)
                return f.read(length)
        except OSError as exc:
            raise error_for_os_error(key, exc) from exc

    def local_path(self, key: str) -> Path:
        return self.path_of(key)

    def write(self, key: str, data: bytes) -> None:
        path = self.path_of(key)
        try:
            write_atomic(path, data, mode=0o644)
        except OSError as exc:
            raise error_for_os_error(key, exc) from exc

    def delete(self, key: str) -> None:
        """Remove an object if it is there (the demo replaces its deliberately bad files)."""
        self.path_of(key).unlink(missing_ok=True)

    def list_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        for path in sorted(self.root.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if not key.startswith(prefix) or path.is_symlink():
                continue
            with contextlib.suppress(OSError):
                info = path.stat()
                if stat.S_ISREG(info.st_mode):
                    yield ObjectInfo(key, info.st_size, info.st_mtime)


def open_store(
    location: str | Path,
    *,
    cache_dir: Path | None = None,
    cache_bytes: int | None = None,
) -> MediaStore:
    """The store for a media location: a folder path, a file:// URL, or s3://bucket/prefix
    (reached as the AWS_* variables or profile say; its downloads kept in `cache_dir`, at most
    `cache_bytes`, default 2 GB; without a `cache_dir`, a temporary folder)."""
    text = str(location)
    if "://" not in text:
        return _folder_store(Path(text))
    parts = urlsplit(text)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ConfigError(f"file URLs name no host: {text!r}")
        return _folder_store(Path(unquote(parts.path)))
    if parts.scheme.lower() in ("s3", "s3a"):
        from db.storage.remote import open_s3_store  # obstore loads only for an S3 URL

        return open_s3_store(text, cache_dir=cache_dir, cache_bytes=cache_bytes)
    raise ConfigError(
        f"unsupported media location {parts.scheme[:20]}:// (use a folder, file:// or s3://)"
    )


def _folder_store(path: Path) -> LocalStore:
    path = path.expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"media folder {path} exists and is not a folder")
    return LocalStore(path)
