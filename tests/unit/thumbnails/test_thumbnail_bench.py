"""The benchmark the CLI's bench command runs: every pass sees every file (a smoke test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fixtures_images import write_jpeg
from viewer.thumbnails.bench import run_thumbnail_benchmark


def test_benchmark_runs_every_pass_over_every_file(qapp: Any, tmp_path: Path) -> None:
    files = [write_jpeg(tmp_path / f"{i}.jpg", 800, 600, seed=i) for i in range(4)]
    result = run_thumbnail_benchmark(files, threads=2, cache_dir=tmp_path)
    for measured in (result.bare, result.cold, result.warm_disk, result.warm_memory):
        assert (measured.delivered, measured.failed) == (4, 0)
        assert measured.per_second > 0 and measured.first_ms >= 0
    assert result.cold.settled_seconds >= result.cold.seconds
    assert result.cold_vs_bare > 0
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == []  # its cache folder is gone
