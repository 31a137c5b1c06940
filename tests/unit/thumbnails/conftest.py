"""Thumbnail test fixtures: services that are always shut down, and no thread left behind."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures_images import write_bad_files
from viewer.thumbnails.service import ThumbnailService


@pytest.fixture(autouse=True)
def no_dangling_threads() -> Iterator[None]:
    """Every thread a test starts must be gone when it ends (napari's check)."""
    before = set(threading.enumerate())
    yield
    leftover = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leftover, f"threads still running after the test: {leftover}"


@pytest.fixture
def make_service(qapp: Any, no_dangling_threads: None) -> Iterator[Callable[..., ThumbnailService]]:
    """ThumbnailService factory; each one is shut down (and must join) before the thread check."""
    services: list[ThumbnailService] = []

    def make(**kwargs: Any) -> ThumbnailService:
        service = ThumbnailService(**kwargs)
        services.append(service)
        return service

    yield make
    for service in services:
        assert service.shutdown(), "a worker did not stop"


@pytest.fixture(scope="session")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_bad_files(tmp_path_factory.mktemp("bad-originals"))
