"""The command line on a real SeaweedFS: `media push` (checked, resumable), `media status`, the
window's photos from a bucket, and an offline bundle exported from it; the keys never shown."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import obstore
import pytest
from PySide6.QtGui import QImage

from db.config import libpq_url
from db.demo import BAD_MEDIA_INSPECTION_REFERENCE, BAD_MEDIA_KEYS
from db.offline import export_bundle
from db.offline.archive import BundleArchive
from db.storage import LocalStore
from tests.integration.s3.buckets import fresh_prefix, make_store
from viewer.bench.seaweed import SeaweedServer

if TYPE_CHECKING:
    from tests.integration.conftest import DemoDatabase

REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Pushed:
    url: str
    prefix: str
    first: subprocess.CompletedProcess[str]


def run(
    server: SeaweedServer, demo_db: DemoDatabase, data_dir: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """The entry point in a child process, the server's keys in its environment only."""
    env = {**os.environ, **server.env(), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "viewer",
            "--database-url",
            libpq_url(demo_db.engine.url),
            "--data-dir",
            str(data_dir),
            *args,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def no_secret(server: SeaweedServer, *texts: str, data_dir: Path | None = None) -> None:
    secret = server.keys.secret_access_key
    for text in texts:
        assert secret not in text
    if data_dir is not None:
        for file in data_dir.rglob("*"):
            if file.is_file() and file.suffix in (".log", ".ini", ".json", ".md", ""):
                assert secret.encode() not in file.read_bytes(), file


@pytest.fixture(scope="module")
def pushed(
    seaweed: SeaweedServer, demo_db: DemoDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Pushed:
    prefix = fresh_prefix("cli")
    url = f"s3://{seaweed.bucket}/{prefix}"
    data_dir = tmp_path_factory.mktemp("push-data")
    first = run(seaweed, demo_db, data_dir, "--media-root", str(demo_db.media_dir), "media",
                "push", "--to", url)  # fmt: skip
    no_secret(seaweed, first.stdout, first.stderr, data_dir=data_dir)
    return Pushed(url, prefix, first)


def test_media_push_copies_checked_photos_and_reports_the_bad_ones(
    pushed: Pushed, demo_db: DemoDatabase
) -> None:
    # The demo keeps deliberately bad files: a missing one and one that fails its SHA-256.
    assert pushed.first.returncode == 1, pushed.first.stderr
    assert "Traceback" not in pushed.first.stderr
    assert f"{BAD_MEDIA_KEYS['missing']}: not read from" in pushed.first.stderr
    assert f"{BAD_MEDIA_KEYS['truncated']}: does not match its SHA-256" in pushed.first.stderr
    assert " copied (" in pushed.first.stdout and "0 already there" in pushed.first.stdout


def test_media_push_again_copies_nothing_new(
    pushed: Pushed, seaweed: SeaweedServer, demo_db: DemoDatabase, tmp_path: Path
) -> None:
    again = run(seaweed, demo_db, tmp_path, "--media-root", str(demo_db.media_dir), "media",
                "push", "--to", pushed.url)  # fmt: skip
    assert again.stdout.startswith("0 copied (0.0 MB)"), again.stdout
    no_secret(seaweed, again.stdout, again.stderr, data_dir=tmp_path)


def test_media_status_counts_photos_and_the_tier(
    pushed: Pushed, seaweed: SeaweedServer, demo_db: DemoDatabase, tmp_path: Path
) -> None:
    status = run(seaweed, demo_db, tmp_path, "--media-url", pushed.url, "media", "status")
    assert status.returncode == 0, status.stderr
    assert f"s3://{seaweed.bucket}/{pushed.prefix} at http://127.0.0.1:" in status.stdout
    assert "none yet" in status.stdout
    no_secret(seaweed, status.stdout, status.stderr, data_dir=tmp_path)


def test_the_window_shows_photos_from_the_bucket(
    pushed: Pushed, seaweed: SeaweedServer, demo_db: DemoDatabase, tmp_path: Path
) -> None:
    png = tmp_path / "main.png"
    proc = run(seaweed, demo_db, tmp_path / "data", "--media-url", pushed.url,
               "--screenshot", str(png))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert not QImage(str(png)).isNull()
    downloaded = list((tmp_path / "data" / "cache" / "media").rglob("*.jpg"))
    assert downloaded, "no photo came from the bucket"
    no_secret(seaweed, proc.stdout, proc.stderr, data_dir=tmp_path / "data")


def test_a_bundle_exported_from_the_bucket_holds_the_same_files(
    seaweed: SeaweedServer, demo_db: DemoDatabase, tmp_path: Path
) -> None:
    # The media root as it is, damaged files included (`media push` would leave those out).
    prefix = fresh_prefix("export")
    client = seaweed.client()
    for file in demo_db.media_dir.rglob("*"):
        if file.is_file():
            key = file.relative_to(demo_db.media_dir).as_posix()
            obstore.put(client, f"{prefix}/{key}", file.read_bytes())
    reference = [BAD_MEDIA_INSPECTION_REFERENCE]
    local = tmp_path / "local.ivbundle"
    remote = tmp_path / "s3.ivbundle"
    export_bundle(demo_db.engine, LocalStore(demo_db.media_dir), reference, out=local)
    store = make_store(seaweed, prefix, tmp_path / "cache")
    try:
        export_bundle(demo_db.engine, store, reference, out=remote)
    finally:
        store.close()
    with (
        BundleArchive(local, tmp_path / "open-a") as a,
        BundleArchive(remote, tmp_path / "open-b") as b,
    ):
        assert dict(a.manifest.files) == dict(b.manifest.files)
        assert a.manifest.media == b.manifest.media
        assert a.manifest.unavailable == b.manifest.unavailable
    assert seaweed.keys.secret_access_key.encode() not in remote.read_bytes()
