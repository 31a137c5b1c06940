"""Opening an S3Store from a URL: its location, its cache folder (or a temporary one)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from db.storage.download_cache import DEFAULT_CACHE_BYTES
from db.storage.s3 import S3Store
from db.storage.s3_config import s3_location


class TemporaryCacheS3Store(S3Store):
    """An S3Store whose download cache is a temporary folder, removed at close()."""

    def __init__(self, url: str, cache_bytes: int) -> None:
        location = s3_location(url)
        self._temporary = Path(tempfile.mkdtemp(prefix="inspection-viewer-s3-"))
        super().__init__(location, self._temporary, cache_bytes=cache_bytes)

    def close(self) -> None:
        super().close()
        shutil.rmtree(self._temporary, ignore_errors=True)


def open_s3_store(url: str, *, cache_dir: Path | None, cache_bytes: int | None) -> S3Store:
    size = cache_bytes if cache_bytes is not None else DEFAULT_CACHE_BYTES
    if cache_dir is None:
        return TemporaryCacheS3Store(url, size)
    return S3Store(s3_location(url), cache_dir, cache_bytes=size)
