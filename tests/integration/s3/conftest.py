"""A real SeaweedFS for the S3 tests: started once per session, only when one of them runs.

Its keys are given to its process and to the stores the tests make, never put in the test
process's environment (a test that wants them there sets them with monkeypatch).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from db.demo import BAD_MEDIA_KEYS, LARGE_INSPECTION_REFERENCE
from tests.integration.s3.buckets import Photo
from viewer.bench.proxy import DelayProxy, Upstream
from viewer.bench.seaweed import LOOPBACK, SeaweedKeys, SeaweedServer

if TYPE_CHECKING:
    from tests.integration.conftest import DemoDatabase

BUCKET = "photos"
PHOTOS = 24  # distinct photos of the large demo inspection, copied to the bucket once


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    server = SeaweedServer(tmp_path_factory.mktemp("seaweed"), BUCKET, reader=SeaweedKeys())
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def bucket_photos(demo_db: DemoDatabase) -> list[Photo]:
    """Distinct good photos of the large demo inspection, read once (each test uploads them
    to a prefix of its own)."""
    with demo_db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT DISTINCT ON (m.sha256) m.id, m.storage_key, m.sha256 FROM media m"
                " JOIN inspections i ON i.id = m.inspection_id"
                " WHERE i.reference_code = :ref AND m.deleted_at IS NULL"
                " AND NOT m.storage_key = ANY(:bad) ORDER BY m.sha256, m.id"
            ),
            {"ref": LARGE_INSPECTION_REFERENCE, "bad": list(BAD_MEDIA_KEYS.values())},
        ).all()
    photos = [
        Photo(int(r[0]), str(r[1]), str(r[2]), (demo_db.media_dir / str(r[1])).read_bytes())
        for r in rows[:PHOTOS]
    ]
    assert len(photos) == PHOTOS
    return photos


@pytest.fixture
def proxy(seaweed: SeaweedServer) -> Iterator[DelayProxy]:
    """The bench's delay proxy in front of the server, for fault injection (no delay)."""
    with DelayProxy(Upstream(host=LOOPBACK, port=seaweed.s3_port), rtt_ms=0) as running:
        yield running
