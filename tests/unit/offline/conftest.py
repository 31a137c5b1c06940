"""Fixtures of the offline bundle tests: a private cache folder and a valid bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.offline.bundles import bundle_entries, write_zip


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def good_bundle(tmp_path: Path) -> Path:
    return write_zip(tmp_path / "good.ivbundle", bundle_entries(tmp_path))
