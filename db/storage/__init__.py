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


def remote_fetch_parallelism(url: str) -> int | None:
    """How many fetches a remote store keeps in flight (its fetch cap), so that the thumbnail
    workers can use them all; None for a local store."""
    if url.lower().startswith(("s3://", "s3a://")):
        from db.storage.s3 import DEFAULT_MAX_IN_FLIGHT

        return DEFAULT_MAX_IN_FLIGHT
    return None


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
    "remote_fetch_parallelism",
]
