"""A bundle file opened read-only: its entries checked on open, files extracted and verified."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import threading
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

from db.offline.cache import CacheFolder
from db.offline.format import (
    CHUNK_BYTES,
    DATABASE_NAME,
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    BundleChecksumError,
    BundleCorruptError,
    BundleError,
    BundleFormatError,
    BundleLimits,
    BundleTooLargeError,
    BundleUnsafeError,
    FileEntry,
    Manifest,
    megabytes,
    refused_entry_message,
    unsafe_entry_reason,
)

# What zipfile raises for a damaged or cut-off archive (a bad CRC, a broken deflate stream, a
# header pointing past the end, an encrypted or exotic entry).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    zlib.error,
    NotImplementedError,
    RuntimeError,
)


def sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class BundleArchive:
    """A bundle opened read-only: names and sizes checked, manifest parsed, files extracted on
    demand into its own folder of the cache.

    Every extracted file is bounded by `limits` (never by what the bundle says alone) and
    checked against the manifest's SHA-256 and size before it is given out, once per process
    (later calls return the checked path). Thread-safe: thumbnail workers may ask for photos
    concurrently. The bundle file itself is only ever read.

    Opening reads the archive's directory and manifest (bounded by MAX_MANIFEST_BYTES) and
    extracts nothing; `extract` is blocking I/O (up to `limits.media_bytes` copied and hashed):
    never call it on the GUI thread. The app calls it from open_bundle (via asyncio.to_thread),
    the thumbnail workers and the thumbnail prefetch thread.
    """

    def __init__(self, path: Path, cache_root: Path, limits: BundleLimits | None = None) -> None:
        self.path = path
        self.name = path.name
        self.limits = limits or BundleLimits()
        self._lock = threading.Lock()
        self._checked: set[str] = set()
        self._entry_locks: dict[str, threading.Lock] = {}
        self._folder: CacheFolder | None = None
        self._file = _open_read_only(path)
        try:
            self._zip = _open_zip(self._file, self.name)
            infos = self._check_entries()
            manifest_bytes = self._read_manifest(infos)
            self.manifest = Manifest.from_json(manifest_bytes, self.name)
            self._check_listing(infos)
            self._check_expansion(os.fstat(self._file.fileno()).st_size)
        except BaseException:
            self._file.close()
            raise
        # Content-addressed by the manifest, so two bundles never share a folder and the same
        # bundle opened again reuses what it extracted before (after checking it again).
        digest = hashlib.sha256(manifest_bytes).hexdigest()[:32]
        self.cache_dir = cache_root / "bundles" / digest

    def close(self) -> None:
        self._zip.close()
        self._file.close()
        with self._lock:
            folder, self._folder = self._folder, None
        if folder is not None:
            folder.release()  # a prune may evict it from now on

    def __enter__(self) -> BundleArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def extract(self, name: str) -> Path:
        """The checked copy of entry `name` in the cache folder (extracted on first use).

        Blocking: off the GUI thread. BundleTooLargeError for an entry over its limit (nothing
        is written), BundleCorruptError for one that does not match the manifest."""
        entry = self.manifest.files.get(name)
        if entry is None:
            raise BundleCorruptError(f"{self.name} has no file {name!r}")
        limit = self.limits.for_entry(name)
        if entry.size > limit:
            raise BundleTooLargeError(
                f"{name} in {self.name} has {megabytes(entry.size)}, over the limit of "
                f"{megabytes(limit)}, so it was not extracted"
            )
        target = self.cache_dir / name  # name matched the whitelist: no separators but one "/"
        with self._lock:
            if name in self._checked:
                return target
            entry_lock = self._entry_locks.setdefault(name, threading.Lock())
            if self._folder is None:
                self._folder = self._hold_folder()
        with entry_lock:
            if name not in self._checked:
                if not (target.is_file() and _matches(target, entry)):
                    self._extract_checked(name, entry, target, limit)
                with self._lock:
                    self._checked.add(name)
        return target

    def read_bytes(self, name: str) -> bytes:
        return self.extract(name).read_bytes()

    # --- checks on open --------------------------------------------------------------------

    def _check_entries(self) -> dict[str, zipfile.ZipInfo]:
        infos: dict[str, zipfile.ZipInfo] = {}
        for info in self._zip.infolist():
            reason = unsafe_entry_reason(info)
            if reason is not None:
                raise BundleUnsafeError(
                    refused_entry_message(self.name, f"its entry {info.filename!r}", reason)
                )
            if info.filename in infos:
                raise BundleUnsafeError(
                    f"{self.name} was refused: it holds {info.filename!r} twice"
                )
            infos[info.filename] = info
        return infos

    def _read_manifest(self, infos: Mapping[str, zipfile.ZipInfo]) -> bytes:
        info = infos.get(MANIFEST_NAME)
        if info is None:
            raise BundleFormatError(
                f"{self.name} is not an Inspection Viewer offline bundle (it has no manifest)"
            )
        if info.file_size > MAX_MANIFEST_BYTES:
            raise BundleCorruptError(f"{self.name} is damaged: its manifest is implausibly large")
        with self._reading(MANIFEST_NAME), self._zip.open(info) as f:
            data = f.read(MAX_MANIFEST_BYTES + 1)
        return data

    def _check_listing(self, infos: Mapping[str, zipfile.ZipInfo]) -> None:
        listed = set(self.manifest.files)
        present = set(infos) - {MANIFEST_NAME}
        if missing := sorted(listed - present):
            raise BundleCorruptError(
                f"{self.name} is incomplete: {len(missing)} file(s) listed in its manifest are "
                f"missing, for example {missing[0]!r}"
            )
        if extra := sorted(present - listed):
            raise BundleCorruptError(
                f"{self.name} is damaged: it holds {extra[0]!r}, which its manifest does not list"
            )
        for name in listed:
            info = infos[name]
            if info.flag_bits & 0x1:
                raise BundleCorruptError(f"{self.name}: {name!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise BundleCorruptError(f"{self.name}: {name!r} uses an unsupported compression")
            if info.file_size != self.manifest.files[name].size:
                raise BundleCorruptError(
                    f"{self.name} is damaged: {name!r} has {info.file_size:,} bytes, "
                    f"its manifest says {self.manifest.files[name].size:,}"
                )

    def _check_expansion(self, bundle_bytes: int) -> None:
        """Refuse, before anything is extracted, a bundle that would expand past our limits."""
        database = self.manifest.files[DATABASE_NAME].size
        if database > self.limits.database_bytes:
            raise BundleTooLargeError(
                f"{self.name} was refused: its database would expand to {megabytes(database)}, "
                f"over the limit of {megabytes(self.limits.database_bytes)}"
            )
        # The manifest's sizes are the archive's own (_check_listing) and every extraction
        # stops at its entry's size, so this bounds all a bundle can ever write to the cache.
        total = sum(entry.size for entry in self.manifest.files.values())
        if total > bundle_bytes + self.limits.expansion_bytes:
            raise BundleTooLargeError(
                f"{self.name} was refused: its files would expand to {megabytes(total)}, more "
                f"than {megabytes(self.limits.expansion_bytes)} over the bundle's own "
                f"{megabytes(bundle_bytes)}"
            )

    # --- extraction ------------------------------------------------------------------------

    def _hold_folder(self) -> CacheFolder:
        try:
            return CacheFolder(self.cache_dir)
        except OSError as exc:
            raise BundleError(
                f"cannot use the cache folder {self.cache_dir} for {self.name}: "
                f"{exc.strerror or exc}"
            ) from None

    def _extract_checked(self, name: str, entry: FileEntry, target: Path, limit: int) -> None:
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        digest = hashlib.sha256()
        size = 0
        # Our limit as well as the entry's size: whatever the local header or the deflate
        # stream say, no more than this is ever written.
        bound = min(entry.size, limit)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with self._reading(name), self._zip.open(name) as src, tmp.open("xb") as dst:
                while chunk := src.read(min(CHUNK_BYTES, bound - size + 1)):
                    size += len(chunk)
                    if size > bound:
                        break
                    digest.update(chunk)
                    dst.write(chunk)
            if size != entry.size or digest.hexdigest() != entry.sha256:
                raise BundleChecksumError(
                    f"{self.name} is damaged: {name} does not match its checksum (SHA-256), "
                    "so it was refused"
                )
            os.replace(tmp, target)
        except OSError as exc:
            raise BundleError(
                f"cannot extract {name} from {self.name} to {target.parent}: {exc.strerror or exc}"
            ) from None
        finally:
            tmp.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _reading(self, name: str) -> Iterator[None]:
        """zipfile's errors for a damaged or cut-off archive, as one message for the user."""
        try:
            yield
        except _ZIP_ERRORS as exc:
            raise BundleCorruptError(
                f"{self.name} is damaged or truncated: reading {name} failed ({exc})"
            ) from None


def _open_read_only(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise BundleError(f"no bundle at {path}") from None
    except IsADirectoryError:
        raise BundleError(f"{path} is a folder, not a bundle file") from None
    except OSError as exc:
        raise BundleError(f"cannot read {path}: {exc.strerror or exc}") from None


def _open_zip(file: IO[bytes], name: str) -> zipfile.ZipFile:
    head = file.read(4)
    file.seek(0)
    try:
        return zipfile.ZipFile(file, "r")
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        if head != b"PK\x03\x04":
            raise BundleFormatError(
                f"{name} is not an Inspection Viewer offline bundle (not a ZIP archive)"
            ) from None
        # A ZIP's table of contents is at its very end: a copy cut short has none.
        raise BundleCorruptError(
            f"{name} is truncated or damaged (its table of contents cannot be read): "
            "copy it again, or export it again"
        ) from None


def _matches(path: Path, entry: FileEntry) -> bool:
    try:
        return path.stat().st_size == entry.size and sha256_file(path) == entry.sha256
    except OSError:
        return False
