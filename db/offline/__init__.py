"""Offline bundles (.ivbundle): the format, the checked archive, export, and opening one."""

from db.offline.archive import BundleArchive, sha256_file
from db.offline.export import (
    PHASE_FINISH,
    PHASE_MEDIA,
    PHASE_READ,
    CancelCheck,
    ExportSummary,
    export_bundle,
)
from db.offline.format import (
    BUNDLE_SUFFIX,
    DATABASE_NAME,
    FORMAT_VERSION,
    MANIFEST_NAME,
    THUMBNAIL_SIZE_PX,
    BundleCorruptError,
    BundledInspection,
    BundleError,
    BundleFormatError,
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
    "BundleCorruptError",
    "BundleError",
    "BundleFormatError",
    "BundleUnsafeError",
    "BundledInspection",
    "CancelCheck",
    "ExportCancelled",
    "ExportSummary",
    "FileEntry",
    "Manifest",
    "OfflineBundle",
    "Thumbnailer",
    "UnavailableMedia",
    "bundle_engine",
    "encode_timestamp",
    "export_bundle",
    "open_bundle",
    "sha256_file",
]
