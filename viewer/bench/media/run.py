"""`bench media` from the command line: the bucket, the proxy, the four runs, the verdict."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from urllib.parse import urlsplit

from obstore.store import S3Store as ObstoreS3
from PySide6.QtGui import QGuiApplication

from db.errors import ConfigError
from db.progress import ProgressCallback
from db.storage.s3 import make_client
from db.storage.s3_config import S3Credentials, S3Location, is_s3_url, s3_location
from viewer.bench.machine import load_average
from viewer.bench.media.report import PASS, evaluate, table, targets_table, write_json
from viewer.bench.media.runner import (
    ORIGINALS,
    TIER,
    TIER_BUILD,
    TITLES,
    WARM,
    RunResult,
    Setup,
    make_photos,
    proxied,
    proxy_for,
    run_scenario,
    scratch_folder,
    upload,
)
from viewer.bench.seaweed import SeaweedServer
from viewer.console import err, out

# As viewer/app.py's tune_interpreter (tests/integration/test_bench_gui.py checks they agree):
# the client is measured with the interpreter the app runs with.
GIL_SWITCH_INTERVAL_S = 0.001

# Opens a progress display for the block it guards (the CLI's phase_progress).
ProgressDisplay = Callable[[], AbstractContextManager[ProgressCallback]]


def run(args: argparse.Namespace, media_url: str, phase_progress: ProgressDisplay) -> bool:
    if args.photos < 1 or args.visible < 1 or args.fetch_cap < 1 or args.cache_mb < 1:
        raise ConfigError("--photos, --visible, --fetch-cap and --cache-mb take at least 1")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QGuiApplication.instance() or QGuiApplication(["inspection-viewer-bench"])
    started = time.monotonic()
    with ExitStack() as stack:
        stack.callback(sys.setswitchinterval, sys.getswitchinterval())
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
        folder = Path(stack.enter_context(scratch_folder()))
        with phase_progress() as report:
            photos = make_photos(args.photos, folder / "pool", report)
            location = _bucket(media_url, folder, stack)
            upload(_client_for(location), photos, report)
        endpoint = urlsplit(location.endpoint or "")
        if endpoint.hostname is None:
            raise ConfigError("bench media needs an S3 endpoint URL (AWS_ENDPOINT_URL)")
        port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
        proxy = stack.enter_context(
            proxy_for(endpoint.hostname, port, args.rtt_ms, args.bandwidth_mbit)
        )
        setup = Setup(
            proxied(location, proxy), proxy, args.fetch_cap, args.cache_mb * 2**20, args.visible
        )
        runs: list[RunResult] = []
        names = (
            [TIER_BUILD, TIER, WARM] if args.skip_originals else [ORIGINALS, TIER_BUILD, TIER, WARM]
        )
        for name in names:
            err.print(f"bench media: {name}...")
            cache = folder / ("cache-tier" if name in (TIER, WARM) else f"cache-{name}")
            runs.append(run_scenario(name, setup, photos, cache, tier_writes=name == TIER_BUILD))
    del app
    targets = evaluate(runs, args.target_first_ms, args.target_grid_s, args.target_mb)
    load = load_average()
    out.print(
        f"{args.photos:,} photos ({photos.total_bytes / 1e6:,.0f} MB of originals), "
        f"RTT {args.rtt_ms:g} ms, {args.bandwidth_mbit:g} Mbit/s, fetch cap {args.fetch_cap}, "
        f"machine load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores"
    )
    out.print(table(runs))
    out.print(
        "CPU time taken by the host (steal) during each run: "
        + ", ".join(f"{TITLES[r.name]} {_pct(r.cpu_steal_pct)}" for r in runs)
    )
    out.print(targets_table(targets))
    if args.json is not None:
        meta = {
            "photos": args.photos,
            "original_bytes": photos.total_bytes,
            "rtt_ms": args.rtt_ms,
            "bandwidth_mbit": args.bandwidth_mbit,
            "fetch_cap": args.fetch_cap,
            "visible": args.visible,
            "cache_mb": args.cache_mb,
            "load": list(load),
            "cores": os.cpu_count(),
            "seconds": time.monotonic() - started,
        }
        write_json(args.json, meta, runs, targets)
        out.print(f"JSON: {args.json}", markup=False)
    return all(t.status == PASS for t in targets)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}%"


def _bucket(media_url: str, folder: Path, stack: ExitStack) -> S3Location:
    """The configured S3 media URL (a prefix of its own inside it), or a private SeaweedFS."""
    if is_s3_url(media_url):
        location = s3_location(media_url)
        prefix = "/".join(p for p in (location.prefix, f"iv-bench-{secrets.token_hex(4)}") if p)
        return S3Location(
            location.bucket, prefix, location.endpoint, location.region, location.credentials
        )
    server = stack.enter_context(SeaweedServer(folder / "seaweed", "bench"))
    keys = S3Credentials(server.keys.access_key_id, server.keys.secret_access_key)
    return S3Location(server.bucket, "", server.endpoint, "us-east-1", keys)


def _client_for(location: S3Location) -> ObstoreS3:
    return make_client(location, 3.0, 120.0, 30.0, 3)
