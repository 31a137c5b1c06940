"""MediaStore: the one place a storage key becomes bytes (a local folder, a bundle, S3)."""

from db.config import AppPaths
from db.storage.base import (
    MediaDamaged,
    MediaForbidden,
    MediaMissing,
    MediaStore,
    MediaTooLarge,
    ObjectInfo,
    StorageError,
    StoreReadOnly,
    StoreUnreachable,
    check_key,
)
from db.storage.local import LocalStore, open_store


def open_media(paths: AppPaths) -> MediaStore:
    """The store the app's media URL names, downloads cached in the data dir's cache."""
    return open_store(
        paths.media_url, cache_dir=paths.media_cache_dir, cache_bytes=paths.media_cache_bytes
    )


__all__ = [
    "LocalStore",
    "MediaDamaged",
    "MediaForbidden",
    "MediaMissing",
    "MediaStore",
    "MediaTooLarge",
    "ObjectInfo",
    "StorageError",
    "StoreReadOnly",
    "StoreUnreachable",
    "check_key",
    "open_media",
    "open_store",
]
