"""`inspection-viewer bench gui --quick` on the session's embedded server: every field of its
JSON and Markdown, statement counts, the command line and exit codes. No assertion on speed:
the figures depend on the machine; that they are measured is what is tested."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import URL

import viewer.bench.gui
from db.config import AppPaths, libpq_url
from db.embedded import EmbeddedServer
from db.engine import Database
from viewer import app as gui_app
from viewer.bench.gui import harness, options
from viewer.bench.gui.report import MARKDOWN_BEGIN, MARKDOWN_END
from viewer.bench.gui.results import SCENARIOS
from viewer.bench.media import run as media_run
from viewer.cli import bench as bench_cli
from viewer.cli.context import Context
from viewer.cli.parser import build_parser

QUICK_ITEMS = 20  # x 20 photos: a "large" inspection of 400, enough to scroll


def parse(url: URL | None, *argv: str) -> argparse.Namespace:
    prefix = ["--database-url", url.render_as_string(hide_password=False)] if url else []
    return build_parser().parse_args([*prefix, *argv])


def context(args: argparse.Namespace, tmp_path: Path) -> Context:
    paths = AppPaths(data_dir=tmp_path / "data", media_url=(tmp_path / "media").as_uri())
    return Context(paths, Database(paths, args.database_url))


def scratch_databases(pg_server: EmbeddedServer) -> list[str]:
    with psycopg.connect(libpq_url(pg_server.url("postgres"))) as conn:
        rows = conn.execute(r"SELECT datname FROM pg_database WHERE datname LIKE 'bench\_%'")
        return [r[0] for r in rows]


def test_quick_run_measures_every_scenario_and_writes_every_field(  # type: ignore[no-untyped-def]
    create_database: Callable[[str], URL], pg_server: EmbeddedServer, tmp_path: Path, qapp
) -> None:
    json_path, md_path = tmp_path / "out.json", tmp_path / "PERFORMANCE.md"
    md_path.write_text(f"# Report\n\nprose\n\n{MARKDOWN_BEGIN}\nold\n{MARKDOWN_END}\nbelow\n")
    args = parse(
        create_database("benchguisrc"),
        "bench",
        "gui",
        "--quick",
        f"--items={QUICK_ITEMS}",
        "--scroll-viewports=3",
        "--selections=6",
        "--timeout-s=30",
        "--no-fail",
        f"--json={json_path}",
        f"--markdown={md_path}",
    )
    assert args.handler is bench_cli.run_gui
    assert args.handler(args, context(args, tmp_path)) == 0
    assert not scratch_databases(pg_server), "the scratch database is dropped"

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
        "scenarios",
        "runs",
        "targets",
    } <= data.keys()
    assert data["command"].startswith("inspection-viewer --database-url 'postgresql://")
    assert "bench gui --quick --items 20" in data["command"]
    machine = data["machine"]
    assert {"cpu", "cores", "qt", "pyside6", "qt_platform", "thumbnail_workers"} <= machine.keys()
    assert machine["qt_platform"] == "offscreen"
    assert len(machine["load_average_at_start"]) == len(machine["load_average_at_end"]) == 3
    assert data["dataset"]["demo"]["photos"] == 1100
    assert data["dataset"]["generated"]["photos"] == QUICK_ITEMS * 20
    assert list(data["scenarios"]) == list(SCENARIOS)
    assert [r["scenario"] for r in data["runs"]] == list(SCENARIOS)  # one run each
    for run in data["runs"]:
        check_run(run)
    check_targets(data)
    markdown = md_path.read_text()
    assert markdown.startswith("# Report\n\nprose\n\n" + MARKDOWN_BEGIN)
    assert markdown.endswith(MARKDOWN_END + "\nbelow\n") and "\nold\n" not in markdown
    assert "| scenario | runs | gap p50 ms |" in markdown


def check_run(run: dict[str, Any]) -> None:
    name = f"{run['scenario']} run {run['run']}"
    heartbeat = run["heartbeat"]
    assert heartbeat["beats"] > 10, name
    for key in ("p50_ms", "p99_ms", "max_ms"):
        assert heartbeat[key] > 0, (name, key)
    assert heartbeat["p50_ms"] <= heartbeat["p99_ms"] <= heartbeat["max_ms"], name
    keys = {"gap_ms", "at_ms", "cpu_ms", "cpu_wait_ms", "phase", "host_ms", "own_ms"}
    for gap in heartbeat["long_gaps"]:
        assert keys == gap.keys(), name
        # On Linux the gap is split: its CPU time and its wait for a CPU fit inside it.
        assert gap["cpu_ms"] + gap["cpu_wait_ms"] <= gap["gap_ms"] + 2, name
        # The host's part (each CPU's steal, sampled) is never more than the gap, and the
        # gap without it never less than the GUI thread's own CPU in it.
        assert 0 <= gap["host_ms"] <= gap["gap_ms"], name
        assert gap["cpu_ms"] <= gap["own_ms"] <= gap["gap_ms"], name
    assert 0 < heartbeat["max_own_ms"] <= heartbeat["max_ms"], name
    # The busiest gap's CPU: at least that of any listed gap, never more than the longest gap.
    busiest = heartbeat["busiest_cpu_ms"]
    assert all(gap["cpu_ms"] <= busiest for gap in heartbeat["long_gaps"]), name
    assert busiest <= heartbeat["max_ms"] + 2, name
    # Every visible thumbnail in: after the grid was filled, the first one, then all.
    assert 0 < run["first_rows_ms"] <= run["first_visible_ms"] <= run["all_visible_ms"], name
    assert run["first_rows_ms"] <= run["all_rows_ms"], name
    assert run["notes"] == [], name
    loads = run["loads"]
    assert loads["media_loads"] >= 1, name
    assert loads["statements"] == [1] * loads["media_loads"], name
    assert loads["failed"] == 0, name
    memory = run["memory"]
    assert 0 < memory["start_mb"] <= memory["peak_mb"], name
    assert memory["peak_mb"] >= memory["end_mb"] > 0, name
    assert len(run["load_average"]) == 3, name
    if run["scenario"] == "selections":
        assert run["scroll"] is None
        assert loads["media_loads"] + loads["cancelled"] >= 2, name
    else:
        assert run["scroll"]["viewports"] == 3, name
        assert run["scroll"]["seconds"] > 0, name
        assert loads["media_loads"] == 1, name
    if run["scenario"].endswith("_warm"):
        assert run["thumbnails"]["memory_hits"] + run["thumbnails"]["disk_hits"] > 0, name


def check_targets(data: dict[str, Any]) -> None:
    targets = {t["key"]: t for t in data["targets"]}
    for scenario in SCENARIOS:
        assert f"{scenario}.max_gap" in targets
        assert f"{scenario}.p99_gap" in targets
    for scenario in ("demo_cold", "demo_warm", "large_cold", "large_warm"):
        assert f"{scenario}.first_thumbnail" in targets
    assert targets["statements_per_load"]["status"] == "pass"
    assert {t["status"] for t in data["targets"]} <= {"pass", "fail"}
    assert data["passed"] == all(t["status"] == "pass" for t in data["targets"])


def test_plain_bench_keeps_its_own_command(tmp_path: Path) -> None:
    args = parse(None, "bench", "--quick", "--rtt-ms=0")
    assert args.handler is bench_cli.run
    assert args.rtt_ms == (0.0,)
    assert args.bench_command is None
    gui = parse(None, "bench", "gui", "--repeat=2", "--only=demo,large")
    assert gui.handler is bench_cli.run_gui
    assert (gui.repeat, gui.only) == (2, ("demo", "large"))


def test_exit_codes_follow_bench(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def exit_code(passed: bool, *argv: str) -> int:
        monkeypatch.setattr(viewer.bench.gui, "run", lambda _args, _ctx: passed)
        args = parse(None, "bench", "gui", *argv)
        result: int = args.handler(args, context(args, tmp_path))
        return result

    assert exit_code(True) == 0
    assert exit_code(False) == bench_cli.EXIT_TARGET_FAILED == 3
    assert exit_code(False, "--no-fail") == 0


def test_the_window_is_built_as_the_app_builds_it() -> None:
    """viewer.bench may not import viewer.app (the same layer): the copies must agree."""
    assert harness.WINDOW_SIZE == gui_app.WINDOW_SIZE
    assert harness.GIL_SWITCH_INTERVAL_S == gui_app.GIL_SWITCH_INTERVAL_S
    assert media_run.GIL_SWITCH_INTERVAL_S == gui_app.GIL_SWITCH_INTERVAL_S
    assert options.DEFAULT_CACHE_MB == gui_app.DEFAULT_CACHE_MB
