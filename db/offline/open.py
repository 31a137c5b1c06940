"""Opening a bundle with no server: its checked database on a read-only async SQLite engine."""

# The app's own loaders (db.loader.MediaBatchLoader, db.media) run on the engine unchanged, and
# photos come from `OfflineBundle.store`, a MediaStore like any other. No PostgreSQL server is
# started and no network connection is made.

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import types as sqltypes
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from db.offline.archive import BundleArchive
from db.offline.format import DATABASE_NAME, Manifest
from db.offline.schema import BundleTimestamp, check_database

if TYPE_CHECKING:
    from db.storage.bundle import BundleStore


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


def open_bundle(path: Path, cache_root: Path) -> OfflineBundle:
    """Check a bundle and open its database read-only; photos are checked on first use.

    Blocking (reads the archive's directory, extracts and hashes the database): call it off
    the GUI thread. Every problem with the file is a BundleError with a message for the user.
    """
    # Imported here: db.storage.bundle reads bundles with this package's archive, so a module
    # level import would make importing db.storage.bundle first a circular import.
    from db.storage.bundle import BundleStore

    archive = BundleArchive(Path(path), cache_root)
    try:
        database = archive.extract(DATABASE_NAME)
        check_database(database, archive.name)
        engine = bundle_engine(database)
    except BaseException:
        archive.close()
        raise
    return OfflineBundle(archive, BundleStore(archive), engine)


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
