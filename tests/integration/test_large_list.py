"""100,000 inspections: the list opens with one page query and scrolls by keyset pages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from db.config import AppPaths, libpq_url
from db.engine import Database, make_engine
from db.metrics import ActionRecord
from db.migrate import upgrade
from db.queries import PAGE_SIZE
from viewer.presenters.main import MainPresenter
from viewer.presenters.session import LiveDatabase
from viewer.thumbnails.cache import MIB, ThumbnailCache
from viewer.thumbnails.service import ThumbnailService
from viewer.widgets.main_window import MainWindow

INSPECTIONS = 100_000


@pytest.fixture(scope="module")
def big_engine(create_database: Callable[[str], URL]) -> Iterator[Engine]:
    engine = make_engine(create_database("big"))
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO inspections (reference_code, site_name, address, inspector_name,"
                " status, scheduled_at, completed_at)"
                " SELECT 'BIG-' || lpad(g::text, 6, '0'), 'Site ' || g,"
                "        g || ' Long Street, Springfield', 'Inspector ' || (g % 50),"
                "        (ARRAY['draft', 'in_progress', 'completed', 'archived'])[1 + g % 4],"
                "        timestamptz '2020-01-01' + g * interval '17 minutes',"
                "        CASE WHEN g % 4 >= 2"
                "             THEN timestamptz '2020-01-02' + g * interval '17 minutes' END"
                " FROM generate_series(1, :n) AS g"
            ),
            {"n": INSPECTIONS},
        )
        conn.execute(text("ANALYZE inspections"))
    yield engine
    engine.dispose()


def test_hundred_thousand_inspections_page_by_keyset_and_search_finds_them(  # type: ignore[no-untyped-def]
    qtbot, qasync_loop, big_engine: Engine, tmp_path: Path
) -> None:
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    window.resize(1200, 800)
    qtbot.addWidget(window)
    paths = AppPaths(data_dir=tmp_path / "data", media_url=(tmp_path / "media").as_uri())
    controller = MainPresenter(
        window,
        paths,
        LiveDatabase(Database(paths, libpq_url(big_engine.url)), paths),
        ThumbnailService(ThumbnailCache(8 * MIB), workers=1),
    )
    pages: list[ActionRecord] = []
    controller.metrics.subscribe(lambda r: pages.append(r) if r.kind == "load_page" else None)
    window.show()
    with qtbot.waitSignal(controller.first_view_ready, timeout=60_000):
        controller.start()

    # The first page: one query, one page of rows, more to come.
    assert [p.statement_count for p in pages] == [1]
    assert window.inspections.rowCount() == PAGE_SIZE
    assert window.inspections.canFetchMore()

    # Scrolling the table to the bottom asks for the next page...
    window.table.scrollToBottom()
    qtbot.waitUntil(lambda: window.inspections.rowCount() == 2 * PAGE_SIZE, timeout=10_000)
    # ...and so on to the end (driven like the view does, without painting 500 times).
    model = window.inspections
    while not model.exhausted():
        before = model.rowCount()
        model.fetchMore()
        qtbot.waitUntil(
            lambda before=before: model.rowCount() > before or model.exhausted(), timeout=10_000
        )
    assert model.rowCount() == INSPECTIONS
    ids = {model.record(r).id for r in range(model.rowCount())}
    assert len(ids) == INSPECTIONS
    statements = [s.sql for p in pages for s in p.statements]
    assert len(statements) == INSPECTIONS // PAGE_SIZE + 1  # the last, short page ends it
    assert not any("OFFSET" in sql.upper() for sql in statements)

    window.list_pane.search.setText("BIG-0999")
    with big_engine.connect() as conn:
        expected = conn.execute(
            text("SELECT count(*) FROM inspections WHERE reference_code LIKE 'BIG-0999%'")
        ).scalar_one()
    qtbot.waitUntil(lambda: model.rowCount() == expected, timeout=10_000)
    assert all("BIG-0999" in model.record(r).reference_code for r in range(model.rowCount()))

    done = asyncio.ensure_future(controller.shutdown())
    qtbot.waitUntil(done.done, timeout=30_000)
