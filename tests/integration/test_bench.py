"""`inspection-viewer bench` on the session's embedded server: a small run end to end, its JSON
and Markdown, statement counts, targets and exit codes, and the delaying proxy."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import URL

from db.config import AppPaths, libpq_url
from db.embedded import EmbeddedServer
from db.engine import Database
from viewer.bench.proxy import CHUNK_BYTES, DelayProxy, upstream_for, url_via_proxy
from viewer.bench.report import MARKDOWN_BEGIN, MARKDOWN_END
from viewer.bench.strategies import STRATEGY_KEYS
from viewer.cli.bench import EXIT_TARGET_FAILED
from viewer.cli.context import Context
from viewer.cli.options import EXIT_USAGE
from viewer.cli.parser import build_parser

ITEMS = 12
MEDIA_PER_ITEM = 3
INSPECTIONS = 3


def run_bench(url: URL, tmp_path: Path, *options: str) -> int:
    argv = ["--database-url", url.render_as_string(hide_password=False), "bench", *options]
    args = build_parser().parse_args(argv)
    paths = AppPaths(data_dir=tmp_path / "data", media_url=(tmp_path / "media").as_uri())
    ctx = Context(paths, Database(paths, args.database_url))
    result: int = args.handler(args, ctx)
    return result


def bench_databases(pg_server: EmbeddedServer) -> list[str]:
    with psycopg.connect(libpq_url(pg_server.url("postgres"))) as conn:
        rows = conn.execute(r"SELECT datname FROM pg_database WHERE datname LIKE 'bench\_%'")
        return [r[0] for r in rows]


SMALL_RUN = (
    f"--inspections={INSPECTIONS}",
    f"--items={ITEMS}",
    f"--media-per-item={MEDIA_PER_ITEM}",
    "--rounds=3",
    "--concurrency=6",
    "--bursts=2",
)


def test_small_run_writes_every_field_and_counts_statements(  # type: ignore[no-untyped-def]
    create_database: Callable[[str], URL], pg_server: EmbeddedServer, tmp_path: Path, qapp
) -> None:
    assert not bench_databases(pg_server)
    json_path, md_path = tmp_path / "out.json", tmp_path / "PERFORMANCE.md"
    md_path.write_text(f"# Report\n\nprose above\n\n{MARKDOWN_BEGIN}\nold\n{MARKDOWN_END}\nbelow\n")
    code = run_bench(
        create_database("benchsrc"),
        tmp_path,
        *SMALL_RUN,
        "--rtt-ms=0,2",
        "--target-speedup-rtt-ms=2",
        "--thumbnail-threads=2",
        "--no-fail",
        f"--json={json_path}",
        f"--markdown={md_path}",
    )
    assert code == 0
    data = json.loads(json_path.read_text())

    assert {
        "schema",
        "command",
        "started_at",
        "seconds",
        "passed",
        "machine",
        "database",
        "dataset",
        "config",
        "rtts",
        "thumbnails",
        "targets",
    } <= data.keys()
    assert data["command"].startswith("inspection-viewer --database-url 'postgresql://postgres@/")
    assert "--items 12" in data["command"]
    assert {"cpu", "cores", "python", "sqlalchemy", "psycopg", "libpq"} <= data["machine"].keys()
    assert data["dataset"]["kind"] == "generated"
    assert data["dataset"]["media_rows"] == INSPECTIONS * ITEMS * MEDIA_PER_ITEM
    assert [m["items"] for m in data["dataset"]["measured_inspections"]] == [ITEMS] * INSPECTIONS

    assert [r["rtt_ms"] for r in data["rtts"]] == [0.0, 2.0]
    direct, proxied = data["rtts"]
    assert not direct["via_proxy"] and proxied["via_proxy"]
    assert proxied["measured_rtt_ms"] >= 2.0
    assert proxied["proxy"]["connections"] > 0
    for rtt in data["rtts"]:
        strategies = {s["key"]: s for s in rtt["strategies"]}
        assert list(strategies) == list(STRATEGY_KEYS)
        statements = {key: s["statements_per_inspection"] for key, s in strategies.items()}
        assert statements == {
            "n_plus_1": ITEMS + 1,
            "per_item": ITEMS + 1,
            "selectinload": 2,
            "joinedload": 1,
            "batch": 1,
            "stream": 1,
            "floor": 1,
            "floor_sync": 1,
        }
        for s in strategies.values():
            assert s["statements_min"] == s["statements_max"]
            assert s["rows_per_load"] == ITEMS * MEDIA_PER_ITEM
            assert s["samples"] == len(s["samples_ms"]) >= 3
            latency = s["latency"]
            assert latency["ci_of"] == "p50"
            for field in ("mean_ms", "ci95_low_ms", "p50_ms", "p95_ms", "p99_ms"):
                assert latency[field] > 0, field
            # However noisy the samples (a busy machine), the median's interval lies within them.
            low, high = latency["ci95_low_ms"], latency["ci95_high_ms"]
            assert latency["min_ms"] <= low <= latency["p50_ms"] <= high <= latency["max_ms"]
            assert latency["p50_ms"] <= latency["p95_ms"] <= latency["p99_ms"]
            assert s["rows_per_second"] > 0
            assert s["speedup_vs_n_plus_1"] > 0 and s["times_floor"] > 0
        assert strategies["n_plus_1"]["speedup_vs_n_plus_1"] == 1.0
        assert strategies["floor"]["times_floor"] == 1.0
        concurrency = rtt["concurrency"]
        assert concurrency["loads"] == 12 and concurrency["errors"] == 0
        assert concurrency["ok"] == 12 and concurrency["statements_max"] == 1
        assert concurrency["latency"]["p95_ms"] > 0 and concurrency["loads_per_second"] > 0
    # Through the proxy every statement pays the added round trip: N+1 pays it ITEMS + 1 times
    # in every sample. A lower bound only: a busy machine makes loads slower, never faster.
    n_plus_1 = {s["key"]: s for s in proxied["strategies"]}["n_plus_1"]
    assert min(n_plus_1["samples_ms"]) >= 2.0 * (ITEMS + 1)

    thumbnails = data["thumbnails"]
    assert thumbnails["status"] == "measured"
    assert thumbnails["files"] == 16
    assert thumbnails["passes"][0]["name"] == "bare QImageReader loop"
    assert all(p["failed"] == 0 and p["thumbnails_per_second"] > 0 for p in thumbnails["passes"])
    assert thumbnails["cache_bytes"] <= thumbnails["cache_cap_bytes"]
    assert thumbnails["cache_evictions"] > 0

    targets = {t["key"]: t for t in data["targets"]}
    assert list(targets) == [
        "batch_statements",
        "speedup_vs_n_plus_1",
        "floor_ratio",
        "concurrency_p95",
        "thumbnail_cache_cap",
    ]
    assert targets["batch_statements"]["status"] == "pass"
    assert targets["thumbnail_cache_cap"]["status"] == "pass"
    assert all(t["status"] in ("pass", "fail") for t in targets.values())
    assert data["passed"] == all(t["status"] == "pass" for t in targets.values())

    markdown = md_path.read_text()
    assert markdown.startswith("# Report\n\nprose above\n\n" + MARKDOWN_BEGIN)
    assert markdown.endswith(MARKDOWN_END + "\nbelow\n")
    assert "\nold\n" not in markdown
    assert "| N+1: ORM lazy loading | 13 |" in markdown
    assert data["command"] in markdown

    assert not bench_databases(pg_server), "the scratch database is dropped"


def test_failed_target_exits_3_unless_no_fail(
    create_database: Callable[[str], URL], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = create_database("benchfail")
    quick = (*SMALL_RUN, "--rtt-ms=0", "--concurrency=0", "--no-thumbnails")
    impossible = "--target-floor-ratio=0.001"
    assert run_bench(url, tmp_path, *quick, impossible) == EXIT_TARGET_FAILED
    out = capsys.readouterr().out
    assert "FAIL app batch load vs the floor" in out
    assert "SKIP" in out  # speedup (no 5 ms RTT), concurrency and thumbnails were not run
    assert run_bench(url, tmp_path, *quick, impossible, "--no-fail") == 0


def test_scratch_database_is_dropped_when_the_run_fails(
    create_database: Callable[[str], URL],
    pg_server: EmbeddedServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from viewer.bench import runner

    async def broken(*_args: object) -> None:
        assert bench_databases(pg_server), "the scratch database exists while measuring"
        raise RuntimeError("boom")

    monkeypatch.setattr(runner, "measure_all", broken)
    with pytest.raises(RuntimeError, match="boom"):
        run_bench(create_database("benchboom"), tmp_path, *SMALL_RUN, "--no-thumbnails")
    assert not bench_databases(pg_server)


@pytest.mark.parametrize(
    "option",
    ["--rtt-ms=5,x", "--rtt-ms=-1", "--rounds=1", "--items=0", "--target-speedup=0"],
)
def test_bad_options_are_usage_errors(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["bench", option])
    assert exit_info.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err


def test_proxy_adds_the_round_trip_and_stops(pg_server: EmbeddedServer) -> None:
    import threading

    url = pg_server.url("postgres")
    upstream = upstream_for(url)
    assert upstream.unix_path is not None and upstream.unix_path.endswith(".s.PGSQL.5432")

    def round_trips(target: URL) -> list[float]:
        with psycopg.connect(libpq_url(target), autocommit=True) as conn:
            times = []
            for _ in range(10):
                started = time.perf_counter()
                conn.execute("SELECT 1").fetchone()
                times.append(time.perf_counter() - started)
        return times

    with DelayProxy(upstream, rtt_ms=10) as proxy:
        proxied = url_via_proxy(url, proxy.port)
        assert proxied.host == "127.0.0.1" and "host" not in proxied.query
        times = round_trips(proxied)
    # A lower bound only: a busy machine makes a round trip slower, never faster.
    assert min(times) >= 0.010, "each round trip waits 5 ms each way"
    assert proxy.stats.connections == 1

    # 10 MB stream through with the delay paid once, not once per 64 KiB chunk. The delay is
    # long (100 ms each way) so that the two differ by seconds: paid per chunk, the stream
    # would take over 15 s; the bound is half that, some 25 times what it takes on an idle
    # machine, so only that bug fails it, not a busy machine.
    with DelayProxy(upstream, rtt_ms=200) as proxy:
        with psycopg.connect(libpq_url(url_via_proxy(url, proxy.port)), autocommit=True) as conn:
            before = proxy.stats.chunks
            started = time.perf_counter()
            rows = conn.execute("SELECT repeat('x', 500) FROM generate_series(1, 20000)").fetchall()
            big = time.perf_counter() - started
            chunks = proxy.stats.chunks - before
        assert len(rows) == 20000
    assert proxy.stats.bytes_to_client > 10_000_000 and chunks >= 10_000_000 // CHUNK_BYTES
    assert big < chunks * 0.100 / 2
    assert not any(t.name == "bench-delay-proxy" for t in threading.enumerate())


def test_markdown_replaces_only_its_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from viewer.bench import report

    fragment = f"{MARKDOWN_BEGIN}\nnew\n{MARKDOWN_END}\n"
    monkeypatch.setattr(report, "to_markdown", lambda _report: fragment)
    unused: Any = None
    path = tmp_path / "figures.md"
    path.write_text("a file without the markers")
    report.write_markdown(unused, path)
    assert path.read_text() == fragment
    path.write_text(f"top\n{MARKDOWN_BEGIN}\nold\n{MARKDOWN_END}")  # no newline at the end
    report.write_markdown(unused, path)
    assert path.read_text() == f"top\n{fragment}"
