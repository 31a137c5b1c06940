"""The S3 media URL and how its bucket is reached: URL checks, AWS_* variables, a profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from db.config import resolve_paths
from db.errors import ConfigError
from db.storage.s3_config import parse_s3_url, s3_location

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


def test_bucket_and_prefix_come_from_the_url() -> None:
    assert parse_s3_url("s3://photos") == ("photos", "")
    assert parse_s3_url("s3://photos/team/site-a/") == ("photos", "team/site-a")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (f"s3://AKIA:{SECRET}@photos/x", "credentials do not belong"),
        ("s3:///nobucket", "not a bucket name"),
        ("s3://photos/../etc", "'..'"),
        ("s3://photos/a//b", "empty"),
        ("s3://photos/x?endpoint=http://evil", r"no \?query"),
        ("s3://" + "b" * 200, "not a bucket name"),
    ],
)
def test_a_hostile_or_wrong_url_is_one_message_without_the_secret(url: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as caught:
        parse_s3_url(url)
    assert SECRET not in str(caught.value)


def test_keys_endpoint_and_region_come_from_the_aws_variables(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:8333",
        "AWS_REGION": "eu-west-3",
    }
    location = s3_location("s3://photos/team", env)
    assert (location.bucket, location.prefix, location.region) == ("photos", "team", "eu-west-3")
    assert location.credentials is not None
    assert location.credentials.secret_access_key == SECRET
    assert location.display == "s3://photos/team at http://127.0.0.1:8333"
    assert SECRET not in repr(location) and SECRET not in repr(location.credentials)


def test_a_profile_supplies_what_the_variables_do_not(tmp_path: Path) -> None:
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        f"[team]\naws_access_key_id = AKIATEAM\naws_secret_access_key = {SECRET}\n"
    )
    (aws / "config").write_text(
        "[profile team]\nregion = eu-central-1\nendpoint_url = https://s3.example.org\n"
    )
    location = s3_location("s3://photos", {"HOME": str(tmp_path), "AWS_PROFILE": "team"})
    assert location.endpoint == "https://s3.example.org"
    assert location.region == "eu-central-1"
    assert location.credentials is not None
    assert location.credentials.access_key_id == "AKIATEAM"


def test_no_keys_anywhere_means_anonymous_requests(tmp_path: Path) -> None:
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_bytes(b"\xff\xfe not ini at all [[[")
    assert s3_location("s3://public", {"HOME": str(tmp_path)}).credentials is None


def test_an_endpoint_that_is_no_http_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not an http"):
        s3_location("s3://p", {"HOME": str(tmp_path), "AWS_ENDPOINT_URL": "ftp://x"})


def test_media_url_option_beats_the_environment_and_excludes_media_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSPECTION_VIEWER_MEDIA_URL", "s3://from-env/p")
    assert resolve_paths(tmp_path / "d").media_url == "s3://from-env/p"
    assert resolve_paths(tmp_path / "d", media_url="s3://opt").media_url == "s3://opt"
    # --media-root given: it wins over the environment's URL.
    assert resolve_paths(tmp_path / "d", media_dir=tmp_path / "m").media_url.startswith("file:")
    with pytest.raises(ConfigError, match="not both"):
        resolve_paths(tmp_path / "d", media_dir=tmp_path / "m", media_url="s3://x")
    with pytest.raises(ConfigError, match="unsupported media URL"):
        resolve_paths(tmp_path / "d", media_url="gopher://x")
    monkeypatch.setenv("INSPECTION_VIEWER_MEDIA_CACHE_MB", "12")
    assert resolve_paths(tmp_path / "d").media_cache_bytes == 12 * 1024 * 1024
    monkeypatch.setenv("INSPECTION_VIEWER_MEDIA_CACHE_MB", "lots")
    with pytest.raises(ConfigError, match="whole number"):
        resolve_paths(tmp_path / "d")


@pytest.mark.parametrize(
    "line",
    [
        f"AWS_SECRET_ACCESS_KEY={SECRET}",
        f"aws_secret_access_key = {SECRET}",
        f'{{"secret_access_key": "{SECRET}"}}',
        f"aws_session_token: {SECRET}",
    ],
)
def test_s3_keys_are_masked_in_free_text(line: str) -> None:
    from db.config import mask_password

    assert SECRET not in mask_password(line)
