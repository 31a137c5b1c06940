"""Thumbnails: scaled decoding in worker threads, a byte-bounded memory cache, a disk cache."""

from viewer.thumbnails.cache import CacheStats, ThumbnailCache, ThumbnailKey
from viewer.thumbnails.decode import ErrorKind, ThumbnailError, decode_scaled
from viewer.thumbnails.disk_cache import (
    DiskThumbnailCache,
    app_thumbnail_root,
    shared_thumbnail_root,
)
from viewer.thumbnails.placeholder import placeholder
from viewer.thumbnails.service import (
    GRID_SIZE,
    PREVIEW_SIZE,
    ThumbnailRequest,
    ThumbnailService,
    ThumbnailStats,
)

__all__ = [
    "GRID_SIZE",
    "PREVIEW_SIZE",
    "CacheStats",
    "DiskThumbnailCache",
    "ErrorKind",
    "ThumbnailCache",
    "ThumbnailError",
    "ThumbnailKey",
    "ThumbnailRequest",
    "ThumbnailService",
    "ThumbnailStats",
    "app_thumbnail_root",
    "decode_scaled",
    "placeholder",
    "shared_thumbnail_root",
]
