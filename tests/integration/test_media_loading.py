"""Batched media loading against the real embedded PostgreSQL: exact statement counts on both
sides, fallback, retries, cancellation, concurrency."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from db.config import libpq_url
from db.demo import LARGE_INSPECTION_REFERENCE, DemoSpec, generate_demo
from db.embedded import EmbeddedServer
from db.engine import make_async_engine, make_engine
from db.loader import LoadResult, MediaBatchLoader, MediaLoadError
from db.metrics import QueryMetrics
from db.migrate import upgrade
from db.retry import RetryPolicy
from db.selection import Selection, SelectionLoader
from db.storage import LocalStore

T = TypeVar("T")
FAST_RETRIES = RetryPolicy(attempts=4, base_delay_s=0.02, factor=2.0, jitter=0.1)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@contextlib.asynccontextmanager
async def app_loader(url: URL, **engine_options: Any) -> AsyncIterator[MediaBatchLoader]:
    """The loader as the app builds it: async engine on psycopg, instrumented."""
    policy = engine_options.pop("policy", FAST_RETRIES)
    engine = make_async_engine(url, **engine_options)
    metrics = QueryMetrics()
    metrics.instrument(engine.sync_engine)
    # The first connection runs the dialect's own set-up queries, outside any user action.
    async with engine.connect():
        pass
    try:
        yield MediaBatchLoader(engine, metrics, policy=policy)
    finally:
        await engine.dispose()


async def wait_until(condition: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Poll a condition on the event loop (the async twin of qtbot.waitUntil)."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def expected_media(engine: Engine, inspection_id: int) -> list[tuple[int, int]]:
    """(checklist item id, media id) in display order, straight from the tables."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT m.checklist_item_id, m.id FROM media m"
                " JOIN checklist_items ci ON ci.id = m.checklist_item_id"
                " WHERE m.inspection_id = :i AND m.deleted_at IS NULL"
                " ORDER BY ci.position, ci.id, m.captured_at, m.id"
            ),
            {"i": inspection_id},
        ).all()
    return [(r[0], r[1]) for r in rows]


def inspection_ids(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM inspections ORDER BY id")).scalars())


BATCH_PATTERN = "%FROM get_inspection_media_batch(%"
PER_ITEM_PATTERN = "%WHERE media.checklist_item_id = %"


@pytest.fixture(scope="module")
def small_demo_factory(
    create_database: Callable[[str], URL], tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Engine]:
    """Private demo databases for tests that change the schema (a small photo pool: fast)."""
    engines: list[Engine] = []

    def make(inspections: int = 6) -> Engine:
        engine = make_engine(create_database("loader"))
        upgrade(engine)
        spec = DemoSpec(inspections=inspections, full_size_photos=1, small_photos=3)
        generate_demo(engine, LocalStore(tmp_path_factory.mktemp("media")), spec)
        engines.append(engine)
        return engine

    yield make  # type: ignore[misc]
    for engine in engines:
        engine.dispose()


def test_every_demo_inspection_loads_in_one_statement_counted_by_app_and_server(  # type: ignore[no-untyped-def]
    demo_db, server_calls
) -> None:
    engine = demo_db.engine
    ids = inspection_ids(engine)
    batch_before = server_calls(engine, BATCH_PATTERN)
    per_item_before = server_calls(engine, PER_ITEM_PATTERN)

    async def scenario() -> list[LoadResult]:
        async with app_loader(engine.url) as loader:
            results = [await loader.load_media(i) for i in ids]
            actions = [r for r in loader.metrics.recent() if r.kind == "load_media"]
            assert [a.statement_count for a in actions[-len(ids) :]] == [1] * min(len(ids), 50)
            return results

    results = run(scenario())
    assert [r.statements for r in results] == [1] * len(ids)
    assert {r.strategy for r in results} == {"batch"}
    assert server_calls(engine, BATCH_PATTERN) - batch_before == len(ids)
    assert server_calls(engine, PER_ITEM_PATTERN) - per_item_before == 0
    for result in results:
        got = [(m.checklist_item_id, m.id) for m in result.media.all_media()]
        assert got == expected_media(engine, result.inspection_id)


def test_large_inspection_returns_every_live_row_grouped_in_display_order(demo_db) -> None:  # type: ignore[no-untyped-def]
    engine = demo_db.engine
    with engine.connect() as conn:
        large_id = conn.execute(
            text("SELECT id FROM inspections WHERE reference_code = :r"),
            {"r": LARGE_INSPECTION_REFERENCE},
        ).scalar_one()
        deleted = set(
            conn.execute(
                text("SELECT id FROM media WHERE inspection_id = :i AND deleted_at IS NOT NULL"),
                {"i": large_id},
            ).scalars()
        )
        positions = dict(
            conn.execute(
                text("SELECT id, position FROM checklist_items WHERE inspection_id = :i"),
                {"i": large_id},
            ).all()
        )

    async def scenario() -> LoadResult:
        async with app_loader(engine.url) as loader:
            return await loader.load_media(large_id)

    result = run(scenario())
    media = result.media.all_media()
    assert result.statements == 1
    assert len(media) >= 1000
    assert deleted, "the demo soft-deletes some photos of the large inspection"
    assert not deleted & {m.id for m in media}
    group_positions = [g.position for g in result.media.items]
    assert group_positions == sorted(group_positions)
    assert len(set(group_positions)) == len(group_positions), "one group per checklist item"
    for group in result.media.items:
        assert positions[group.checklist_item_id] == group.position
        keys = [(m.captured_at, m.id) for m in group.media]
        assert keys == sorted(keys)
        assert {m.checklist_item_id for m in group.media} == {group.checklist_item_id}
    assert [(m.checklist_item_id, m.id) for m in media] == expected_media(engine, large_id)


def test_checklist_with_media_counts_is_one_statement(demo_db) -> None:  # type: ignore[no-untyped-def]
    engine = demo_db.engine
    large_id = inspection_ids(engine)[0]

    async def scenario() -> tuple[Any, Any]:
        async with app_loader(engine.url) as loader:
            checklist = await loader.load_checklist(large_id)
            media = await loader.load_media(large_id)
            return checklist, media, loader.metrics.last("load_checklist")

    checklist, media, action = run(scenario())
    assert action.statement_count == 1
    assert [e.position for e in checklist] == sorted(e.position for e in checklist)
    counts = {g.checklist_item_id: len(g.media) for g in media.media.items}
    assert {e.id: e.media_count for e in checklist if e.media_count} == counts


def test_fallback_after_drop_function_returns_identical_data_one_statement_per_item(
    small_demo_factory: Callable[..., Engine],
) -> None:
    engine = small_demo_factory()
    ids = inspection_ids(engine)

    async def batch_results() -> dict[int, Any]:
        async with app_loader(engine.url) as loader:
            return {i: (await loader.load_media(i)).media for i in ids}

    before = run(batch_results())
    with engine.begin() as conn:
        conn.execute(text("DROP FUNCTION get_inspection_media_batch(bigint)"))

    async def fallback_results() -> tuple[dict[int, LoadResult], list[Any], QueryMetrics]:
        async with app_loader(engine.url) as loader:
            out = {}
            checklists = []
            for i in ids:
                checklists.append(await loader.load_checklist(i))
                out[i] = await loader.load_media(i)
            return out, checklists, loader.metrics

    after, checklists, metrics = run(fallback_results())
    assert {i: r.media for i, r in after.items()} == before
    assert {r.strategy for r in after.values()} == {"fallback"}
    # The first load also tried the batch statement once and was refused; later loads go
    # straight to one statement per checklist item.
    first, *rest = ids
    assert after[first].statements == 1 + len(checklists[0])
    for i, checklist in zip(rest, checklists[1:], strict=True):
        assert after[i].statements == len(checklist)
    assert metrics.counters["fallbacks"] == len(ids)
    assert "batch query refused" in (metrics.last_error or "")


def test_two_requests_in_flight_share_one_query_and_the_cache_serves_reselection(demo_db) -> None:  # type: ignore[no-untyped-def]
    engine = demo_db.engine
    target = inspection_ids(engine)[1]

    async def scenario() -> tuple[list[LoadResult], LoadResult, LoadResult, MediaBatchLoader]:
        async with app_loader(engine.url) as loader:
            pair = await asyncio.gather(loader.load_media(target), loader.load_media(target))
            again = await loader.load_media(target)
            fresh = await loader.load_media(target, refresh=True)
            return list(pair), again, fresh, loader

    pair, again, fresh, loader = run(scenario())
    loads = [a for a in loader.metrics.recent() if a.kind == "load_media"]
    assert len(loads) == 2, "one shared query, then one explicit refresh"
    assert pair[0] is pair[1]
    assert loader.stats.shared == 1
    assert (again.strategy, again.statements) == ("cache", 0)
    assert (fresh.strategy, fresh.statements) == ("batch", 1)


async def _backend_waiting_on_lock(admin: psycopg.AsyncConnection[Any]) -> int | None:
    row = await (
        await admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'inspection-viewer'"
            " AND wait_event_type = 'Lock'"
        )
    ).fetchone()
    return None if row is None else int(row[0])


def test_load_whose_connection_is_terminated_is_retried_and_succeeds(demo_db) -> None:  # type: ignore[no-untyped-def]
    engine = demo_db.engine
    target = inspection_ids(engine)[2]

    async def scenario() -> LoadResult:
        async with (
            app_loader(engine.url) as loader,
            await psycopg.AsyncConnection.connect(libpq_url(engine.url)) as locker,
            await psycopg.AsyncConnection.connect(libpq_url(engine.url), autocommit=True) as admin,
        ):
            # Hold the load's statement on a lock, so it is mid-flight when its backend dies.
            await locker.execute("LOCK TABLE media IN ACCESS EXCLUSIVE MODE")
            load = asyncio.ensure_future(loader.load_media(target))
            await wait_until(lambda: _has(admin))
            pid = await _backend_waiting_on_lock(admin)
            await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            await locker.rollback()
            return await load

    result = run(scenario())
    assert result.retries >= 1
    assert result.strategy == "batch"
    assert [(m.checklist_item_id, m.id) for m in result.media.all_media()] == expected_media(
        engine, target
    )


async def _has(admin: psycopg.AsyncConnection[Any]) -> bool:
    return await _backend_waiting_on_lock(admin) is not None


def test_stuck_statement_hits_the_statement_timeout_and_becomes_an_error(demo_db) -> None:  # type: ignore[no-untyped-def]
    engine = demo_db.engine
    target = inspection_ids(engine)[3]

    async def scenario() -> MediaLoadError:
        async with (
            app_loader(
                engine.url,
                statement_timeout_ms=150,
                policy=RetryPolicy(attempts=2, base_delay_s=0.01),
            ) as loader,
            await psycopg.AsyncConnection.connect(libpq_url(engine.url)) as locker,
        ):
            await locker.execute("LOCK TABLE media IN ACCESS EXCLUSIVE MODE")
            try:
                await loader.load_media(target)
            except MediaLoadError as exc:
                return exc
            finally:
                await locker.rollback()
            raise AssertionError("the load should have timed out")

    error = run(scenario())
    assert error.transient
    assert "statement timeout" in str(error)
    assert "after 2 attempts" in str(error)


def test_server_stopped_during_a_load_ends_in_error_then_retry_succeeds(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    server = EmbeddedServer(pgdata, database="loader")
    url = server.start()
    engine = make_engine(url)
    upgrade(engine)
    generate_demo(
        engine,
        LocalStore(tmp_path / "media"),
        DemoSpec(inspections=2, full_size_photos=1, small_photos=1),
    )
    target = inspection_ids(engine)[0]
    engine.dispose()
    restarted: list[EmbeddedServer] = []

    async def scenario() -> tuple[MediaLoadError, LoadResult]:
        # Plain connections, closed (not committed) at the end: the server kills them too.
        locker = await psycopg.AsyncConnection.connect(libpq_url(url))
        admin = await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True)
        try:
            async with app_loader(url, policy=FAST_RETRIES) as loader:
                await locker.execute("LOCK TABLE media IN ACCESS EXCLUSIVE MODE")
                load = asyncio.ensure_future(loader.load_media(target))
                await wait_until(lambda: _has(admin))
                await asyncio.to_thread(server.release)  # the last handle: the server stops
                with pytest.raises(MediaLoadError) as failed:
                    await load
                again = EmbeddedServer(pgdata, database="loader")
                await asyncio.to_thread(again.start)
                restarted.append(again)
                return failed.value, await loader.load_media(target)
        finally:
            await locker.close()
            await admin.close()

    try:
        error, result = run(scenario())
    finally:
        for handle in restarted:
            handle.release()
    assert error.transient
    assert f"after {FAST_RETRIES.attempts} attempts" in str(error)
    assert result.strategy == "batch" and result.media.count > 0


def test_fifty_concurrent_loads_of_different_inspections_all_succeed(
    small_demo_factory: Callable[..., Engine],
) -> None:
    engine = small_demo_factory(inspections=50)
    ids = inspection_ids(engine)
    assert len(ids) == 50

    async def scenario() -> list[LoadResult]:
        async with app_loader(engine.url) as loader:
            return list(await asyncio.gather(*(loader.load_media(i) for i in ids)))

    results = run(scenario())
    assert [r.inspection_id for r in results] == ids
    for result in results:
        assert result.statements == 1
        assert [(m.checklist_item_id, m.id) for m in result.media.all_media()] == (
            expected_media(engine, result.inspection_id)
        )


def test_twenty_quick_selections_deliver_only_the_last_inspection(demo_db) -> None:  # type: ignore[no-untyped-def]
    engine = demo_db.engine
    ids = inspection_ids(engine)[:20]

    async def scenario() -> tuple[list[Selection], SelectionLoader]:
        delivered: list[Selection] = []
        async with app_loader(engine.url) as loader:
            selection = SelectionLoader(loader, delivered.append, lambda exc: None)
            for i in ids:
                selection.select(i)
                await asyncio.sleep(0)  # let each load start, as clicks would
            await selection.wait()
            return delivered, selection

    delivered, _selection = run(scenario())
    assert [r.inspection_id for r in delivered] == [ids[-1]]
    assert [(m.checklist_item_id, m.id) for m in delivered[0].media.media.all_media()] == (
        expected_media(engine, ids[-1])
    )
    assert {e.inspection_id for e in delivered[0].checklist} == {ids[-1]}


def test_a_burst_of_selections_loads_only_the_inspection_it_rests_on(demo_db) -> None:  # type: ignore[no-untyped-def]
    """An arrow key held down the list: the inspections passed over send no statement."""
    engine = demo_db.engine
    ids = inspection_ids(engine)[:6]
    now = [100.0]  # the selections' clock: 50 ms apart, then a lone one a second later

    async def scenario() -> tuple[list[Selection], list[str], int, int]:
        delivered: list[Selection] = []
        async with app_loader(engine.url) as loader:
            selection = SelectionLoader(
                loader, delivered.append, lambda exc: None, clock=lambda: now[0]
            )
            for i in ids[:-1]:
                selection.select(i)
                await asyncio.sleep(0)  # each load under way (the first) or resting
                now[0] += 0.05
            await selection.wait()
            rested = selection.rested
            now[0] += 1.0
            selection.select(ids[-1])
            await selection.wait()
            labels = [record.label for record in loader.metrics.recent()]
            # A cached inspection shows at once when selected alone, and waits for the
            # selection to rest when it comes in a burst.
            now[0] += 1.0
            selection.select(ids[-2])
            assert delivered[-1].inspection_id == ids[-2]
            assert delivered[-1].media.strategy == "cache"
            now[0] += 1.0
            selection.select(ids[0])  # not cached: its load is under way when...
            now[0] += 0.05
            selection.select(ids[-1])  # ... the next selection comes
            assert delivered[-1].inspection_id == ids[-2]
            await selection.wait()
            assert delivered[-1].inspection_id == ids[-1]
            assert delivered[-1].media.strategy == "cache"
            return delivered, labels, rested, selection.rested

    delivered, labels, rested_in_burst, rested_after = run(scenario())
    assert [s.inspection_id for s in delivered] == [ids[-2], ids[-1], ids[-2], ids[-1]]
    # The first selection of the burst loaded at once (its statements may have gone out before
    # the second one cancelled them); the ones in between never sent any.
    for passed_over in ids[1:-2]:
        assert not [label for label in labels if f"inspection={passed_over}" in label]
    for shown in ids[-2:]:
        assert sorted(label for label in labels if label.endswith(f"inspection={shown}")) == [
            f"load_checklist inspection={shown}",
            f"load_media inspection={shown}",
        ]
    assert rested_in_burst == 1  # the last of the burst, once the selection rested on it
    assert rested_after == 2  # a lone selection does not wait; the cached one in a burst did
