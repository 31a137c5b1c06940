"""Offline bundles (.ivbundle): the format, the checked archive, export, and opening one."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from db.offline.format import (
    BUNDLE_SUFFIX,
    DATABASE_NAME,
    FORMAT_VERSION,
    MANIFEST_NAME,
    THUMBNAIL_SIZE_PX,
    BundleChecksumError,
    BundleCorruptError,
    BundledInspection,
    BundleError,
    BundleFormatError,
    BundleLimits,
    BundleTooLargeError,
    BundleUnsafeError,
    FileEntry,
    Manifest,
    UnavailableMedia,
)

if TYPE_CHECKING:
    from db.offline.archive import (
        BundleArchive,
        sha256_file,
    )
    from db.offline.cache import (
        PruneResult,
        prune_bundle_cache,
    )
    from db.offline.export import (
        PHASE_FINISH,
        PHASE_MEDIA,
        PHASE_READ,
        CancelCheck,
        ExportSummary,
        export_bundle,
        remove_stale_partials,
    )
    from db.offline.open import (
        OfflineBundle,
        bundle_engine,
        open_bundle,
    )
    from db.offline.schema import (
        SCHEMA_SQL,
        TABLE_COLUMNS,
        encode_timestamp,
    )
    from db.offline.writer import (
        ExportCancelled,
        Thumbnailer,
    )

# Loaded on first use: the command line's --help imports this package and must stay fast
# (export and open need SQLAlchemy).
_LAZY = {
    "BundleArchive": "db.offline.archive",
    "CancelCheck": "db.offline.export",
    "ExportCancelled": "db.offline.writer",
    "ExportSummary": "db.offline.export",
    "OfflineBundle": "db.offline.open",
    "PHASE_FINISH": "db.offline.export",
    "PHASE_MEDIA": "db.offline.export",
    "PHASE_READ": "db.offline.export",
    "PruneResult": "db.offline.cache",
    "SCHEMA_SQL": "db.offline.schema",
    "TABLE_COLUMNS": "db.offline.schema",
    "Thumbnailer": "db.offline.writer",
    "bundle_engine": "db.offline.open",
    "encode_timestamp": "db.offline.schema",
    "export_bundle": "db.offline.export",
    "open_bundle": "db.offline.open",
    "prune_bundle_cache": "db.offline.cache",
    "remove_stale_partials": "db.offline.export",
    "sha256_file": "db.offline.archive",
}

__all__ = [
    "BUNDLE_SUFFIX",
    "DATABASE_NAME",
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "PHASE_FINISH",
    "PHASE_MEDIA",
    "PHASE_READ",
    "SCHEMA_SQL",
    "TABLE_COLUMNS",
    "THUMBNAIL_SIZE_PX",
    "BundleArchive",
    "BundleChecksumError",
    "BundleCorruptError",
    "BundleError",
    "BundleFormatError",
    "BundleLimits",
    "BundleTooLargeError",
    "BundleUnsafeError",
    "BundledInspection",
    "CancelCheck",
    "ExportCancelled",
    "ExportSummary",
    "FileEntry",
    "Manifest",
    "OfflineBundle",
    "PruneResult",
    "Thumbnailer",
    "UnavailableMedia",
    "bundle_engine",
    "encode_timestamp",
    "export_bundle",
    "open_bundle",
    "prune_bundle_cache",
    "remove_stale_partials",
    "sha256_file",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
