"""Runs the GUI benchmark: the scratch data, the Qt application and its qasync loop, the report."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

# PySide6 before qasync: qasync picks the Qt binding that is already imported (STYLE.md).
import PySide6
import qasync
from PySide6.QtCore import qVersion
from sqlalchemy.engine import URL

from db.config import mask_url
from db.progress import ProgressCallback
from viewer.bench.gui.dataset import GuiDataset, gui_dataset
from viewer.bench.gui.harness import WINDOW_SIZE, qt_application
from viewer.bench.gui.results import GuiConfig, GuiReport, RunResult
from viewer.bench.gui.scenarios import run_all, titles
from viewer.bench.gui.targets import evaluate
from viewer.bench.machine import load_average
from viewer.bench.runner import machine_info

ProgressBar = Callable[[], contextlib.AbstractContextManager[ProgressCallback]]


def run_gui_benchmark(
    server_url: URL,
    config: GuiConfig,
    *,
    command: str,
    embedded: bool,
    progress_bar: ProgressBar,
    say: Callable[[str], None],
) -> GuiReport:
    """Blocking; call it on the main thread, before or without a running Qt event loop.

    The progress bar shows while the data is made and is gone before anything is measured
    (its refresh thread would take the GIL from the GUI thread).
    """
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    machine = machine_info()
    reference = f"BENCH-GUI-{config.items * config.media_per_item}"
    with contextlib.ExitStack() as stack:
        with progress_bar() as progress:
            dataset = stack.enter_context(
                gui_dataset(server_url, config.items, config.media_per_item, reference, progress)
            )
        runs, qt = _measure(dataset, config, say)
    machine.update(qt)
    machine["load_average_at_end"] = list(load_average())
    report = GuiReport(
        command=command,
        started_at=started_at,
        seconds=round(time.perf_counter() - started, 1),
        machine=machine,
        database={
            "connection": "embedded server, Unix socket" if embedded else "given by URL",
            "url": mask_url(server_url),
            "scratch_database": dataset.database,
        },
        dataset=_dataset_info(dataset, config),
        config=config,
        scenarios=titles(dataset, config),
        runs=tuple(runs),
    )
    return dataclasses.replace(report, targets=evaluate(report))


def _measure(
    dataset: GuiDataset, config: GuiConfig, say: Callable[[str], None]
) -> tuple[list[RunResult], dict[str, Any]]:
    # Offscreen, whatever the desktop: figures comparable from machine to machine. Read when
    # the QApplication is made, so a test's own application keeps its platform.
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    with qt_application() as app:
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        try:
            runs = loop.run_until_complete(run_all(dataset, config, say))
        finally:
            loop.close()
            asyncio.set_event_loop(None)
        qt = {
            "qt": qVersion(),
            "pyside6": PySide6.__version__,
            "qt_platform": app.platformName(),
            "window_size": f"{WINDOW_SIZE[0]}x{WINDOW_SIZE[1]}",
            "thumbnail_workers": config.workers or os.cpu_count() or 2,
        }
    return runs, qt


def _dataset_info(dataset: GuiDataset, config: GuiConfig) -> dict[str, Any]:
    demo, large = dataset.demo_large, dataset.generated
    return {
        "description": (
            f"the demo data ({demo.reference}: {demo.photos:,} photos, {demo.items} checklist "
            f"items) and a generated inspection ({large.reference}: {config.items:,} items x "
            f"{config.media_per_item} = {large.photos:,} photos, each its own path, "
            f"{dataset.link_kind}s to the demo's {dataset.distinct_files} photo files)"
        ),
        "inspections": dataset.inspections,
        "media_rows": dataset.media_rows,
        "demo": dataclasses.asdict(demo),
        "generated": dataclasses.asdict(large),
        "start_and_step_away": dataclasses.asdict(dataset.small),
        "link_kind": dataset.link_kind,
        "distinct_files": dataset.distinct_files,
    }
