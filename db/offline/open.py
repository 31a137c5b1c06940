"""Opening a bundle with no server: its checked database on a read-only async SQLite engine."""

# The app's own loaders (db.loader.MediaBatchLoader, db.media) run on the engine unchanged, and
# photos come from `OfflineBundle.store`, a MediaStore like any other. No PostgreSQL server is
# started and no network connection is made.

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from db.offline.archive import BundleArchive
from db.offline.cache import prune_bundle_cache
from db.offline.format import DATABASE_NAME, BundleLimits, Manifest
from db.offline.schema import check_database, encode_timestamp

if TYPE_CHECKING:
    from db.storage.bundle import BundleStore

log = logging.getLogger(__name__)


class BundleTimestamp(DATETIME):
    """SQLite's DATETIME, binding parameters in the bundle's stored form.

    The stock type drops the timezone when binding, so a bound time would compare as text
    against a stored one of another shape (keyset paging of the inspection list does this).
    Reading needs nothing special: datetime.fromisoformat() keeps the stored +00:00.
    """

    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Any:
        def process(value: datetime | None) -> str | None:
            return None if value is None else encode_timestamp(value)

        return process


class OfflineBundle:
    """An open bundle: its checked archive, its photos as a store, and a read-only engine."""

    def __init__(self, archive: BundleArchive, store: BundleStore, engine: AsyncEngine) -> None:
        self.archive = archive
        self.store = store
        self.engine = engine

    @property
    def path(self) -> Path:
        return self.archive.path

    @property
    def manifest(self) -> Manifest:
        return self.archive.manifest

    @property
    def display(self) -> str:
        """What the status bar shows in place of the database URL."""
        return self.store.display

    async def close(self) -> None:
        await self.engine.dispose()
        self.store.close()
        self.archive.close()


def open_bundle(path: Path, cache_root: Path, limits: BundleLimits | None = None) -> OfflineBundle:
    """Check a bundle and open its database read-only; photos are checked on first use.

    Blocking (reads the archive's directory, extracts and hashes the database, up to
    `limits.database_bytes`, and prunes the bundle cache to `limits.cache_bytes`): call it off
    the GUI thread, as the app does (OfflineBundleSource.open, via asyncio.to_thread). Every
    problem with the file is a BundleError with a message for the user.
    """
    # Imported here: db.storage.bundle reads bundles with this package's archive, so a module
    # level import would make importing db.storage.bundle first a circular import.
    from db.storage.bundle import BundleStore

    archive = BundleArchive(Path(path), cache_root, limits)
    try:
        database = archive.extract(DATABASE_NAME)
        check_database(database, archive.name)
        _prune_cache(archive)
        engine = bundle_engine(database)
    except BaseException:
        archive.close()
        raise
    return OfflineBundle(archive, BundleStore(archive), engine)


def _prune_cache(archive: BundleArchive) -> None:
    """After the database is extracted, so the cap counts this bundle too (never evicted)."""
    try:
        prune_bundle_cache(archive.cache_dir.parent, archive.limits.cache_bytes, archive.cache_dir)
    except OSError as exc:  # a full cache is no reason to refuse a good bundle
        log.warning("cannot prune the bundle cache %s: %s", archive.cache_dir.parent, exc)


def bundle_engine(database: Path) -> AsyncEngine:
    """An async engine on a bundle's extracted database: read-only, no locking, aiosqlite."""
    # immutable=1: the file is our private checked copy, so SQLite may skip locks and never
    # looks for a journal to recover (which would be a write).
    url = URL.create(
        "sqlite+aiosqlite",
        database=database.resolve().as_uri(),
        query={"mode": "ro", "immutable": "1", "uri": "true"},
    )
    engine = create_async_engine(url)
    dialect = engine.sync_engine.dialect
    # Timestamps bind in the bundle's stored form (see BundleTimestamp); set on this engine's
    # dialect only, before its first statement compiles.
    dialect.colspecs = {**dialect.colspecs, sqltypes.DateTime: BundleTimestamp}
    return engine
