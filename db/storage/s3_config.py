"""Where an S3 bucket is and how to sign for it: the URL, the AWS_* variables, a profile.

The same setup as S3 tools take it, so one set of variables works against AWS, MinIO,
SeaweedFS, Ceph or Supabase Storage: ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` /
``AWS_SESSION_TOKEN``, ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``), ``AWS_REGION`` (or
``AWS_DEFAULT_REGION``), else the profile ``AWS_PROFILE`` (default ``default``) in
``~/.aws/credentials`` and ``~/.aws/config``. Credentials never appear in a URL, a message or a
log line: `S3Location.display` is what people see.
"""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from db.config import mask_password
from db.errors import ConfigError

DEFAULT_REGION = "us-east-1"
# S3's own rule is 3-63 of [a-z0-9.-]; older buckets and other servers allow "_" and capitals.
_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
MAX_PREFIX_LENGTH = 512


@dataclass(frozen=True)
class S3Credentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class S3Location:
    """A bucket, the prefix inside it, and how to reach it (credentials kept out of repr)."""

    bucket: str
    prefix: str = ""
    endpoint: str | None = None
    region: str = DEFAULT_REGION
    credentials: S3Credentials | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    @property
    def display(self) -> str:
        """For people: the bucket URL and the server, never a credential."""
        where = f" at {mask_password(self.endpoint)}" if self.endpoint else ""
        return f"{self.url}{where}"

    @property
    def server(self) -> str:
        return mask_password(self.endpoint) if self.endpoint else f"S3 ({self.region})"

    def with_endpoint(self, endpoint: str) -> S3Location:
        return S3Location(self.bucket, self.prefix, endpoint, self.region, self.credentials)


def is_s3_url(text: str) -> bool:
    return text.lower().startswith(("s3://", "s3a://"))


def parse_s3_url(text: str) -> tuple[str, str]:
    """(bucket, prefix) of an s3:// URL; ConfigError for anything we would not dare to use."""
    parts = urlsplit(text.strip())
    if parts.scheme.lower() not in ("s3", "s3a"):
        raise ConfigError(f"not an S3 URL: {mask_password(text)[:200]!r}")
    if "@" in parts.netloc:
        raise ConfigError(
            "credentials do not belong in the media URL: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) instead"
        )
    bucket = parts.netloc
    if not _BUCKET.fullmatch(bucket):
        raise ConfigError(f"not a bucket name in the media URL: {bucket[:80]!r}")
    if parts.query or parts.fragment:
        raise ConfigError("the media URL takes no ?query or #fragment: s3://bucket/prefix")
    prefix = unquote(parts.path).strip("/")
    if len(prefix) > MAX_PREFIX_LENGTH or "\x00" in prefix or "\\" in prefix:
        raise ConfigError("not a usable prefix in the media URL")
    if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
        raise ConfigError("the prefix in the media URL has empty, '.' or '..' parts")
    return bucket, prefix


def s3_location(url: str, env: Mapping[str, str] | None = None) -> S3Location:
    """The bucket of `url`, reached and signed for as the environment (or profile) says."""
    env = os.environ if env is None else env
    bucket, prefix = parse_s3_url(url)
    profile = _profile(env)
    endpoint = (
        env.get("AWS_ENDPOINT_URL_S3")
        or env.get("AWS_ENDPOINT_URL")
        or env.get("AWS_ENDPOINT")
        or profile.get("endpoint_url")
        or None
    )
    if endpoint is not None:
        _check_endpoint(endpoint)
    region = (
        env.get("AWS_REGION")
        or env.get("AWS_DEFAULT_REGION")
        or profile.get("region")
        or DEFAULT_REGION
    )
    return S3Location(bucket, prefix, endpoint, region, _credentials(env, profile))


def _check_endpoint(endpoint: str) -> None:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"AWS_ENDPOINT_URL is not an http(s) URL: {mask_password(endpoint)[:200]!r}"
        )


def _credentials(env: Mapping[str, str], profile: Mapping[str, str]) -> S3Credentials | None:
    key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return S3Credentials(key, secret, env.get("AWS_SESSION_TOKEN") or None)
    key, secret = profile.get("aws_access_key_id"), profile.get("aws_secret_access_key")
    if key and secret:
        return S3Credentials(key, secret, profile.get("aws_session_token") or None)
    return None


def _profile(env: Mapping[str, str]) -> dict[str, str]:
    """The profile's settings: credentials from the credentials file, the rest from config.

    A file that cannot be read or parsed counts as absent (the request then says "access
    denied", which names what to fix); its content is never shown.
    """
    name = env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or "default"
    home = Path(env.get("HOME") or Path.home())
    settings: dict[str, str] = {}
    config_file = Path(env.get("AWS_CONFIG_FILE") or home / ".aws" / "config")
    section = name if name == "default" else f"profile {name}"
    settings.update(_section(config_file, section))
    credentials_file = Path(env.get("AWS_SHARED_CREDENTIALS_FILE") or home / ".aws" / "credentials")
    settings.update(_section(credentials_file, name))
    return settings


def _section(path: Path, section: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        if not path.is_file() or path.stat().st_size > 1_000_000:
            return {}
        parser.read(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError, configparser.Error):
        return {}
    if not parser.has_section(section):
        return {}
    return {key.lower(): value.strip() for key, value in parser.items(section)}
