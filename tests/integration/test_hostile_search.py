"""Hostile search input (NUL, control characters, huge pastes) gives the same sensible rows on
PostgreSQL and on a bundle's SQLite, and a failed list query never takes the window away."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.config import AppPaths, libpq_url
from db.engine import Database, make_async_engine
from db.offline import export_bundle, open_bundle
from db.queries import list_inspections
from db.records import SEARCH_MAX_CHARS, InspectionQuery
from db.storage import open_store
from viewer.presenters.main import MainPresenter
from viewer.presenters.session import LiveDatabase
from viewer.thumbnails.cache import MIB, ThumbnailCache
from viewer.thumbnails.service import ThumbnailService
from viewer.widgets.main_window import MainWindow


@dataclass(frozen=True)
class Bundled:
    references: list[str]  # the bundle's inspections, fewest photos first
    address: str  # of the first one
    path: Path


@pytest.fixture(scope="module")
def bundled(demo_db: Any, tmp_path_factory: pytest.TempPathFactory) -> Bundled:
    """Three small demo inspections taken offline (no thumbnails: only the rows matter here)."""
    with demo_db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT i.reference_code, i.address FROM inspections i"
                " ORDER BY (SELECT count(*) FROM media m WHERE m.inspection_id = i.id), i.id"
                " LIMIT 3"
            )
        ).all()
    out = tmp_path_factory.mktemp("bundle") / "three.ivbundle"
    export_bundle(
        demo_db.engine, open_store(demo_db.media_dir.as_uri()), [r[0] for r in rows], out=out
    )
    return Bundled([r[0] for r in rows], rows[0][1], out)


async def _references(engine: AsyncEngine, search: str) -> set[str]:
    async with engine.connect() as conn:
        page = await list_inspections(conn, InspectionQuery(search=search), limit=1000)
    return {r.reference_code for r in page.rows}


def test_hostile_search_gives_the_same_rows_on_postgresql_and_a_bundles_sqlite(
    demo_db: Any, bundled: Bundled, tmp_path: Path
) -> None:
    ref = bundled.references[0]
    street = bundled.address.split(" ", 1)  # "12 Harbour Street" -> a pasted line break
    searches = {
        "\x00": set(bundled.references),  # nothing left to search for: like an empty box
        "\x00NO-SUCH-INSPECTION": set(),  # SQLite used to cut the pattern at NUL: every row
        f"{ref[:4]}\x00{ref[4:]}\x7f\x9b": {ref},
        "\x00" * 5000 + f"\t{ref}\r\n": {ref},  # a huge paste: only SEARCH_MAX_CHARS are run
        f"{street[0]}\n{street[1]}": {ref},
    }

    async def scenario() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        live = make_async_engine(demo_db.engine.url)
        bundle = open_bundle(bundled.path, tmp_path / "cache")
        try:
            on_pg = {s: await _references(live, s) & set(bundled.references) for s in searches}
            on_sqlite = {s: await _references(bundle.engine, s) for s in searches}
        finally:
            await live.dispose()
            await bundle.close()
        return on_pg, on_sqlite

    on_pg, on_sqlite = asyncio.run(scenario())

    assert on_pg == on_sqlite == searches


def test_search_input_is_cleaned_once_when_the_query_is_made() -> None:
    assert InspectionQuery(search="\x00") == InspectionQuery()
    assert InspectionQuery(search=" INS\x00-2026\x85 ").search == "INS-2026"
    assert InspectionQuery(search="a\tb\nc\x1fd\ud800e").search == "a b c de"
    long = InspectionQuery(search="x" * 10_000 + "\x00").search
    assert long == "x" * SEARCH_MAX_CHARS


# --- the window -----------------------------------------------------------------------------


@dataclass
class RunningApp:
    window: MainWindow
    controller: MainPresenter


@pytest.fixture
def app(qtbot, qasync_loop, demo_db, tmp_path: Path) -> Iterator[RunningApp]:  # type: ignore[no-untyped-def]
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    window.resize(1200, 800)
    qtbot.addWidget(window)
    paths = AppPaths(data_dir=tmp_path / "data", media_url=demo_db.media_dir.as_uri())
    controller = MainPresenter(
        window,
        paths,
        LiveDatabase(Database(paths, libpq_url(demo_db.engine.url)), paths),
        ThumbnailService(ThumbnailCache(16 * MIB), workers=1),
    )
    window.show()
    with qtbot.waitSignal(controller.first_view_ready, timeout=60_000):
        controller.start()
    yield RunningApp(window, controller)
    done = asyncio.ensure_future(controller.shutdown())
    qtbot.waitUntil(done.done, timeout=30_000)
    done.result()


def _search_finds_nothing(app: RunningApp, qtbot: Any) -> None:
    """The state in which a failure used to look like a start-up failure: an empty list."""
    window = app.window
    window.list_pane.search.setText("no inspection is called this")
    qtbot.waitUntil(lambda: window.inspections.rowCount() == 0, timeout=10_000)
    assert window.list_pane.empty.isVisible()


def _on_main_page_and_usable(app: RunningApp, qtbot: Any) -> None:
    window = app.window
    assert window.pages.currentWidget() is not window.startup
    assert window.list_pane.search.isVisible() and window.list_pane.search.isEnabled()
    # The search box still drives the list.
    window.list_pane.search.setText("INS-20")
    qtbot.waitUntil(lambda: window.inspections.rowCount() > 0, timeout=10_000)
    assert window.pages.currentWidget() is not window.startup


def test_pasting_a_nul_into_the_search_box_keeps_the_window(app: RunningApp, qtbot: Any) -> None:
    window = app.window
    total = window.inspections.rowCount()
    _search_finds_nothing(app, qtbot)

    window.list_pane.search.clear()
    QApplication.clipboard().setText("\x00")
    window.list_pane.search.paste()
    assert window.list_pane.search.text() == "\x00"
    # Nothing but NUL is nothing to search for: every inspection again, or the start-up page.
    qtbot.waitUntil(
        lambda: (
            window.inspections.rowCount() == total or window.pages.currentWidget() is window.startup
        ),
        timeout=10_000,
    )

    assert window.pages.currentWidget() is not window.startup
    assert "could not be loaded" not in window.statusBar().currentMessage()
    _on_main_page_and_usable(app, qtbot)


def test_a_failed_search_is_a_status_message_with_injected_connection_fault(
    app: RunningApp, qtbot: Any
) -> None:
    window, presenter = app.window, app.controller.inspections
    _search_finds_nothing(app, qtbot)
    good_engine = presenter.engine
    assert good_engine is not None
    # Fault injection: the list's engine now points at a port where nothing listens.
    broken = make_async_engine(good_engine.url.set(host="127.0.0.1", port=1, query={}))
    presenter.engine = broken

    window.list_pane.search.setText("INS-")
    qtbot.waitUntil(
        lambda: (
            "could not be loaded" in window.statusBar().currentMessage()
            or window.pages.currentWidget() is window.startup
        ),
        timeout=30_000,
    )
    assert window.pages.currentWidget() is not window.startup
    assert window.inspections.rowCount() == 0  # the rows of the last answer stay

    presenter.engine = good_engine  # the fault is gone: the next search works
    _on_main_page_and_usable(app, qtbot)
    done = asyncio.ensure_future(broken.dispose())
    qtbot.waitUntil(done.done)
