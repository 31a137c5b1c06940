"""Runs the benchmark in a scratch database and gathers what the report needs to describe it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import psycopg
import sqlalchemy
from sqlalchemy.engine import URL

from db.config import libpq_url, mask_url
from db.engine import CONNECT_TIMEOUT_S
from db.progress import ProgressCallback, no_progress
from viewer.bench.dataset import Dataset, scratch_dataset
from viewer.bench.machine import load_average
from viewer.bench.measure import measure_all
from viewer.bench.results import BenchConfig, BenchReport, ThumbnailsResult
from viewer.bench.targets import evaluate


def run_benchmark(
    server_url: URL,
    config: BenchConfig,
    *,
    command: str,
    embedded: bool,
    progress: ProgressCallback | None = None,
) -> BenchReport:
    """The whole benchmark against the server of `server_url`, in a scratch database.

    Blocking. Call it on the main thread: the thumbnail part needs Qt's GUI thread.
    """
    report = progress or no_progress
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    machine = machine_info()
    with scratch_dataset(
        server_url, config.dataset, with_files=config.thumbnails, progress=report
    ) as dataset:
        server_version = _server_version(dataset.url)
        rtts = asyncio.run(measure_all(dataset, config, report))
        server_side = _server_side(dataset)
        thumbnails = _thumbnails(dataset, config, report)
    machine["load_average_at_end"] = list(load_average())
    result = BenchReport(
        command=command,
        started_at=started_at,
        seconds=time.perf_counter() - started,
        machine=machine,
        database={
            "server": f"PostgreSQL {server_version}",
            "connection": "embedded server, Unix socket" if embedded else "given by URL",
            "url": mask_url(server_url),
            "scratch_database": dataset.database,
            **server_side,
        },
        dataset=_dataset_info(dataset),
        config=config,
        rtts=rtts,
        thumbnails=thumbnails,
    )
    return dataclasses.replace(result, targets=evaluate(result))


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count() or 0,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "psycopg": psycopg.__version__,
        "libpq": _libpq_version(),
        # Other work on the machine slows every strategy; these say how busy it was.
        "load_average_at_start": list(load_average()),
    }


def _libpq_version() -> str:
    version = psycopg.pq.version()
    return f"{version // 10000}.{version % 10000}"


def _server_version(url: URL) -> str:
    with psycopg.connect(libpq_url(url), connect_timeout=CONNECT_TIMEOUT_S) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def _server_side(dataset: Dataset) -> dict[str, Any]:
    """What the server spends on the first measured inspection: the batch function's own
    duration (it logs every call) and the size of the rows it returns."""
    inspection_id = dataset.measured[0].id
    with psycopg.connect(libpq_url(dataset.url), connect_timeout=CONNECT_TIMEOUT_S) as conn:
        timing = conn.execute(
            "SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms)"
            "  FROM query_performance_log"
            " WHERE function_name = 'get_inspection_media_batch' AND inspection_id = %s",
            (inspection_id,),
        ).fetchone()
        size = conn.execute(
            "SELECT sum(pg_column_size(t.*)) FROM get_inspection_media_batch(%s) AS t",
            (inspection_id,),
        ).fetchone()
    return {
        "batch_function_calls": int(timing[0]) if timing else 0,
        "batch_function_p50_ms": round(float(timing[1]), 4) if timing and timing[1] else None,
        "batch_result_bytes": int(size[0]) if size and size[0] else None,
    }


def _dataset_info(dataset: Dataset) -> dict[str, Any]:
    return {
        "kind": dataset.spec.kind,
        "description": dataset.spec.describe(),
        "inspections": dataset.inspections,
        "checklist_items": dataset.checklist_items,
        "media_rows": dataset.media_rows,
        "measured_inspections": [
            {"id": m.id, "reference": m.reference, "items": m.items, "media": m.media}
            for m in dataset.measured
        ],
        "photo_files": len(dataset.photo_files),
    }


def _thumbnails(
    dataset: Dataset, config: BenchConfig, progress: ProgressCallback
) -> ThumbnailsResult:
    if not config.thumbnails:
        return ThumbnailsResult("skipped", "--no-thumbnails")
    if not dataset.photo_files:
        return ThumbnailsResult("skipped", "the dataset has no photo files")
    from viewer.bench.thumbnails import run_thumbnails

    return run_thumbnails(dataset.photo_files, config.thumbnail_threads, progress)
