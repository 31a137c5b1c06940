"""MediaStore: the one place a storage key becomes bytes (a local folder, a bundle, later S3)."""

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
    "open_store",
]
