"""Offline bundles (.ivbundle): the format, the checked archive, export, and opening one."""

from db.offline.archive import BundleArchive, sha256_file
from db.offline.cache import PruneResult, prune_bundle_cache
from db.offline.export import (
    PHASE_FINISH,
    PHASE_MEDIA,
    PHASE_READ,
    CancelCheck,
    ExportSummary,
    export_bundle,
    remove_stale_partials,
)
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
from db.offline.open import OfflineBundle, bundle_engine, open_bundle
from db.offline.schema import SCHEMA_SQL, TABLE_COLUMNS, encode_timestamp
from db.offline.writer import ExportCancelled, Thumbnailer

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
