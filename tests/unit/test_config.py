"""Database URLs from users: accepted forms, clear refusals, passwords never shown."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from db.config import mask_password, mask_url, parse_database_url, resolve_paths
from db.errors import ConfigError


@pytest.mark.parametrize(
    "raw",
    [
        "postgresql://u:pw@db.example:5432/insp",
        "postgres://u:pw@db.example/insp",
        "postgresql+psycopg://u:pw@db.example/insp",
    ],
)
def test_pasted_postgres_urls_become_psycopg3_urls(raw: str) -> None:
    url = parse_database_url(raw)
    assert url.drivername == "postgresql+psycopg"
    assert url.database == "insp"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("not a url", "not a database URL"),
        ("mysql://u:pw@h/db", "needs PostgreSQL"),
        ("postgresql://u:pw@h", "names no database"),
    ],
)
def test_bad_urls_are_refused_with_a_reason_and_no_password(raw: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_database_url(raw)
    assert fragment in str(info.value)
    assert "pw" not in str(info.value).replace("password", "")


def test_masking_hides_the_password_and_keeps_the_rest() -> None:
    url = parse_database_url("postgresql://alice:s3cr3t@db.example:5433/insp")
    shown = mask_url(url)
    assert "s3cr3t" not in shown
    assert "alice" in shown and "db.example:5433/insp" in shown
    assert "s3cr3t" not in mask_password("connect postgresql://alice:s3cr3t@h/db failed")
    assert "s3cr3t" not in mask_password("host=h password=s3cr3t dbname=x")


def test_data_dir_option_beats_environment(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("INSPECTION_VIEWER_HOME", str(tmp_path / "env"))
    assert resolve_paths().data_dir == tmp_path / "env"
    assert resolve_paths(tmp_path / "opt").data_dir == tmp_path / "opt"
    assert resolve_paths(tmp_path / "opt").media_url == (tmp_path / "opt" / "media").as_uri()


def test_data_dir_that_is_a_file_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a folder"):
        resolve_paths(tmp_path / "file")


SECRET = "S3cretPW"


@pytest.mark.parametrize(
    "raw",
    [
        f"postgresql://u:{SECRET}@db.example/insp",
        f"postgresql://u@db.example/insp?password={SECRET}",
        f"postgresql://u@db.example/insp?sslmode=require&PassWord={SECRET}",
        f"postgresql://u@db.example/insp?sslpassword={SECRET}&application_name=x",
        f"postgresql://u:{SECRET}@db.example/insp?password={SECRET}",
        "postgresql://u:S3c%40retPW@db.example/insp",  # '@' encoded, as it should be
        "postgresql://u:S3c@retPW@db.example/insp",  # '@' as people type it
        "postgresql://u:S3c@ret@PW@db.example/insp",
        "postgresql://u:S3c/retPW@db.example/insp",
    ],
)
def test_mask_url_hides_the_password_in_every_form(raw: str) -> None:
    for shown in (mask_url(raw), mask_url(parse_database_url(raw)), mask_password(raw)):
        assert "S3c" not in shown and "retPW" not in shown and "PW" not in shown, shown
        assert "db.example" in shown
    assert mask_url(parse_database_url(raw)).startswith("postgresql://u")


def test_mask_url_keeps_what_is_not_a_secret() -> None:
    raw = "postgresql+psycopg://alice:pw@db.example:5433/insp?sslmode=require&password=pw"
    assert (
        mask_url(raw) == "postgresql://alice:***@db.example:5433/insp?password=***&sslmode=require"
    )
    assert mask_url("postgresql://alice@db.example/insp") == "postgresql://alice@db.example/insp"
    assert mask_url("postgresql://postgres:@/x?host=%2Ftmp%2Fpg") == (
        "postgresql://postgres@/x?host=/tmp/pg"
    )


@pytest.mark.parametrize(
    "text",
    [
        f"host=/tmp dbname=insp user=u password={SECRET}",
        f"host=/tmp password = '{SECRET} and more' dbname=insp",
        f"PGPASSWORD={SECRET} psql",
        f"{{'host': 'h', 'password': '{SECRET}'}}",
        f"ALTER ROLE u WITH PASSWORD '{SECRET}'",
        "could not connect to postgresql://u:S3c@retPW@h:1/db: refused (user@example.com)",
        f"postgresql://alice:{SECRET}@[::1/x",
        f"postgresql://u@h/db?password={SECRET}#frag",
    ],
)
def test_mask_password_hides_passwords_in_free_text(text: str) -> None:
    shown = mask_password(text)
    assert "S3c" not in shown and "retPW" not in shown, shown
    assert "***" in shown


def test_a_password_with_an_unencoded_at_sign_stays_whole() -> None:
    url = parse_database_url("postgresql://u:S3c@retPW@db.example:5432/insp")
    assert (url.username, url.password, url.host, url.port) == (
        "u",
        "S3c@retPW",
        "db.example",
        5432,
    )
    assert parse_database_url("postgresql://u:S3c%40retPW@db.example/insp").password == "S3c@retPW"


@pytest.mark.parametrize(
    "raw", ["postgresql://alice:S3cretPW@[::1/x", "postgresql://alice:S3cretPW@h:port/x"]
)
def test_a_malformed_url_is_a_config_error_without_the_password(raw: str) -> None:
    with pytest.raises(ConfigError, match="not a database URL") as info:
        parse_database_url(raw)
    assert "S3cretPW" not in str(info.value) and "alice:***@" in str(info.value)


def test_the_data_dir_is_created_and_a_folder_that_cannot_be_is_a_config_error(
    tmp_path: Path,
) -> None:
    assert resolve_paths(tmp_path / "new" / "data").data_dir.is_dir()
    assert list((tmp_path / "new" / "data").iterdir()) == []  # the probe is gone
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match=r"cannot create the data dir .*--data-dir"):
        resolve_paths(tmp_path / "file" / "data")
    with pytest.raises(ConfigError, match="cannot create the data dir /proc/x"):
        resolve_paths("/proc/x")


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "disk full at {dir}: free some space"),
        (errno.EROFS, "cannot write to {dir}: the file system is read-only"),
        (errno.EACCES, "cannot write to {dir}: permission denied"),
    ],
)
def test_a_data_dir_that_cannot_be_written_is_a_config_error_fault_injected(
    code: int, words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(fd: int, data: bytes) -> int:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "write", failing)
    with pytest.raises(ConfigError) as info:
        resolve_paths(tmp_path / "data")
    assert words.format(dir=tmp_path / "data") in str(info.value)
    assert "--data-dir" in str(info.value)
    assert list((tmp_path / "data").iterdir()) == []


def test_a_full_disk_is_said_so_and_not_an_unexpected_error() -> None:
    import logging

    from db.errors import user_message

    full = OSError(errno.ENOSPC, "No space left on device", "/data/pgdata/base/1")
    assert user_message(full, logging.getLogger("test"), "x") == (
        "disk full at /data/pgdata/base/1: free some space and try again"
    )
    unnamed = OSError(errno.ENOSPC, "No space left on device")
    assert user_message(unnamed, logging.getLogger("test"), "x").startswith(
        "disk full at the data dir"
    )
