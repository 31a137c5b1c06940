"""Database URLs from users: accepted forms, clear refusals, passwords never shown."""

from __future__ import annotations

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
