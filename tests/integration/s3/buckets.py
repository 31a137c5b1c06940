"""Helpers for the S3 tests: photos, prefixes of their own, stores as the app opens them."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import obstore

from db.storage.s3 import S3Store
from db.storage.s3_config import s3_location
from viewer.bench.proxy import DelayProxy
from viewer.bench.seaweed import LOOPBACK, SeaweedKeys, SeaweedServer

_prefixes = itertools.count(1)


@dataclass(frozen=True)
class Photo:
    media_id: int
    key: str
    sha256: str
    data: bytes


def fresh_prefix(name: str) -> str:
    """A prefix no other test uses (the bucket is shared by the session)."""
    return f"t{next(_prefixes)}-{re.sub(r'[^a-z0-9]+', '-', name.lower())[:40]}"


def upload(server: SeaweedServer, prefix: str, photos: list[Photo]) -> None:
    client = server.client()
    for photo in photos:
        obstore.put(client, f"{prefix}/{photo.key}", photo.data)


def make_store(
    server: SeaweedServer,
    prefix: str,
    cache_dir: Path,
    *,
    endpoint: str | None = None,
    keys: SeaweedKeys | None = None,
    home: Path | None = None,
    **options: object,
) -> S3Store:
    """A store on `prefix`, as the app would open it from these AWS_* variables."""
    keys = keys or server.keys
    env = {
        **keys.env(),
        "AWS_ENDPOINT_URL": endpoint or server.endpoint,
        "AWS_REGION": "us-east-1",
        "HOME": str(home or cache_dir),
    }
    return S3Store(s3_location(f"s3://{server.bucket}/{prefix}", env), cache_dir, **options)  # type: ignore[arg-type]


def proxy_endpoint(proxy: DelayProxy) -> str:
    return f"http://{LOOPBACK}:{proxy.port}"
