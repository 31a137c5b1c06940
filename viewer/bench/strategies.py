"""The ways of loading an inspection's media that the benchmark compares, on warm connections."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session, joinedload, selectinload

from db.config import libpq_url
from db.engine import CONNECT_TIMEOUT_S, STATEMENT_TIMEOUT_MS, make_async_engine
from db.loader import LoadResult, MediaBatchLoader
from db.media import BATCH_STATEMENT, load_checklist, load_media_per_item
from db.metrics import QueryMetrics
from db.models import ChecklistItem
from db.records import InspectionMedia

APPLICATION_NAME = "inspection-viewer-bench"
# The app's batch statement word for word, in psycopg's parameter style: the floor must run
# exactly the SQL the app runs.
FLOOR_SQL = BATCH_STATEMENT.text.replace(":inspection_id", "%(inspection_id)s")


class BenchError(Exception):
    """A bug in what is measured (strategies disagree, the batch path fell back): not a timing."""


@dataclass(frozen=True, slots=True)
class Loaded:
    """One load: statements counted while it ran, media rows it produced, and what it built
    (kept only to check, outside the timed part, that every strategy built the same media)."""

    statements: int
    rows: int
    payload: object


class Strategy(abc.ABC):
    """One way of loading an inspection's media. Blocking strategies simply block the event
    loop: loads are measured one at a time, and the delay proxy has a thread of its own."""

    key: str
    label: str
    description: str

    def __init__(self, conns: Connections) -> None:
        self.conns = conns

    @abc.abstractmethod
    async def load(self, inspection_id: int) -> Loaded: ...

    @abc.abstractmethod
    def media_ids(self, payload: object) -> list[int]:
        """Media ids in display order, from a payload `load` returned."""


@dataclass
class Connections:
    """Everything the strategies run on for one server address, opened once and kept warm.

    All of it is autocommit without pre-ping, like the app's own engine, so what differs
    between strategies is their statements, not transaction handling (no BEGIN or ROLLBACK
    round trips for anyone).
    """

    url: URL
    sync_engine: Engine
    async_engine: AsyncEngine
    metrics: QueryMetrics
    loader: MediaBatchLoader
    psycopg_async: psycopg.AsyncConnection[Any]
    psycopg_sync: psycopg.Connection[Any]

    @classmethod
    async def open(cls, url: URL) -> Connections:
        options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
        sync_engine = create_engine(
            url,
            isolation_level="AUTOCOMMIT",
            pool_pre_ping=False,
            connect_args={
                "connect_timeout": CONNECT_TIMEOUT_S,
                "options": options,
                "application_name": APPLICATION_NAME,
            },
        )
        # The app's engine, built by the app's factory: pool, timeouts and all.
        async_engine = make_async_engine(url, application_name=APPLICATION_NAME)
        metrics = QueryMetrics()
        metrics.instrument(sync_engine)
        metrics.instrument(async_engine.sync_engine)
        conninfo = libpq_url(url)
        psycopg_async = await psycopg.AsyncConnection.connect(
            conninfo,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            options=options,
            application_name=APPLICATION_NAME,
        )
        psycopg_sync = psycopg.connect(
            conninfo,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            options=options,
            application_name=APPLICATION_NAME,
        )
        # First connections run the dialects' own set-up queries: not part of any load.
        with sync_engine.connect():
            pass
        async with async_engine.connect():
            pass
        return cls(
            url=url,
            sync_engine=sync_engine,
            async_engine=async_engine,
            metrics=metrics,
            loader=MediaBatchLoader(async_engine, metrics),
            psycopg_async=psycopg_async,
            psycopg_sync=psycopg_sync,
        )

    async def close(self) -> None:
        self.psycopg_sync.close()
        await self.psycopg_async.close()
        await self.async_engine.dispose()
        self.sync_engine.dispose()


def _items_query(inspection_id: int) -> Any:
    return (
        select(ChecklistItem)
        .where(ChecklistItem.inspection_id == inspection_id)
        .order_by(ChecklistItem.position, ChecklistItem.id)
    )


def _orm_media_ids(payload: object) -> list[int]:
    assert isinstance(payload, list)
    return [m.id for item in payload for m in item.media]


def _media_ids(payload: object) -> list[int]:
    assert isinstance(payload, InspectionMedia)
    return [m.id for m in payload.all_media()]


def _row_ids(payload: object) -> list[int]:
    assert isinstance(payload, list)
    return [int(row[0]) for row in payload]


class NPlusOne(Strategy):
    key = "n_plus_1"
    label = "N+1: ORM lazy loading"
    description = (
        "SQLAlchemy ORM, relationship lazy='select' (the default): one query for the checklist "
        "items, then one per item as its .media is touched"
    )

    async def load(self, inspection_id: int) -> Loaded:
        with (
            self.conns.metrics.action("bench", strategy=self.key) as scope,
            Session(self.conns.sync_engine) as session,
        ):
            items = list(session.scalars(_items_query(inspection_id)))
            rows = sum(len(item.media) for item in items)
            return Loaded(len(scope.statements), rows, items)

    def media_ids(self, payload: object) -> list[int]:
        return _orm_media_ids(payload)


class SelectInLoad(Strategy):
    key = "selectinload"
    label = "ORM selectinload"
    description = (
        "SQLAlchemy ORM with selectinload(ChecklistItem.media): the items, then their media "
        "in one SELECT ... WHERE checklist_item_id IN (...)"
    )

    async def load(self, inspection_id: int) -> Loaded:
        stmt = _items_query(inspection_id).options(selectinload(ChecklistItem.media))
        with (
            self.conns.metrics.action("bench", strategy=self.key) as scope,
            Session(self.conns.sync_engine) as session,
        ):
            items = list(session.scalars(stmt))
            rows = sum(len(item.media) for item in items)
            return Loaded(len(scope.statements), rows, items)

    def media_ids(self, payload: object) -> list[int]:
        return _orm_media_ids(payload)


class JoinedLoad(Strategy):
    key = "joinedload"
    label = "ORM joinedload"
    description = (
        "SQLAlchemy ORM with joinedload(ChecklistItem.media): one LEFT OUTER JOIN, the item "
        "columns repeated on every media row and de-duplicated in Python"
    )

    async def load(self, inspection_id: int) -> Loaded:
        stmt = _items_query(inspection_id).options(joinedload(ChecklistItem.media))
        with (
            self.conns.metrics.action("bench", strategy=self.key) as scope,
            Session(self.conns.sync_engine) as session,
        ):
            items = list(session.scalars(stmt).unique())
            rows = sum(len(item.media) for item in items)
            return Loaded(len(scope.statements), rows, items)

    def media_ids(self, payload: object) -> list[int]:
        return _orm_media_ids(payload)


class PerItemFallback(Strategy):
    key = "per_item"
    label = "app per-item fallback"
    description = (
        "the app's fallback path (db.media.load_checklist, then load_media_per_item) on the "
        "app's async engine: one statement for the checklist, one per item"
    )

    async def load(self, inspection_id: int) -> Loaded:
        with self.conns.metrics.action("bench", strategy=self.key) as scope:
            async with self.conns.async_engine.connect() as conn:
                checklist = await load_checklist(conn, inspection_id)
                media = await load_media_per_item(conn, inspection_id, checklist)
            return Loaded(len(scope.statements), media.count, media)

    def media_ids(self, payload: object) -> list[int]:
        return _media_ids(payload)


class AppBatch(Strategy):
    key = "batch"
    label = "app batch load"
    description = (
        "MediaBatchLoader.load_media(refresh=True) on the app's AsyncEngine (pool, retries, "
        "statement accounting, grouping into frozen records) through the logged batch "
        "function, the whole result at once, as scripts call it (the app itself streams)"
    )

    async def load(self, inspection_id: int) -> Loaded:
        return _checked(
            inspection_id, await self.conns.loader.load_media(inspection_id, refresh=True)
        )

    def media_ids(self, payload: object) -> list[int]:
        return _media_ids(payload)


class AppStream(Strategy):
    key = "stream"
    label = "app streamed load"
    description = (
        "the window's own path: the same load with rows handed over chunk by chunk as they "
        "arrive (load_media(on_rows=...)), through the stream function the planner inlines"
    )

    async def load(self, inspection_id: int) -> Loaded:
        chunks = 0

        def on_rows(_index: int, _rows: tuple[object, ...]) -> None:
            nonlocal chunks
            chunks += 1

        loader = self.conns.loader
        result = _checked(
            inspection_id, await loader.load_media(inspection_id, refresh=True, on_rows=on_rows)
        )
        if chunks == 0 and result.rows:
            raise BenchError(f"inspection {inspection_id}: no rows were handed over as they came")
        return result

    def media_ids(self, payload: object) -> list[int]:
        return _media_ids(payload)


def _checked(inspection_id: int, result: LoadResult) -> Loaded:
    if result.strategy != "batch":
        raise BenchError(
            f"the app loaded inspection {inspection_id} with its {result.strategy} path, "
            "not the batch statement: the database is not at the newest schema"
        )
    # Counted by the loader's own action scope (engine event hooks), as the GUI shows it.
    return Loaded(result.statements, result.media.count, result.media)


class AsyncFloor(Strategy):
    key = "floor"
    label = "floor: bare psycopg"
    description = (
        "the same SQL as the batch load with bare psycopg on one open AsyncConnection, "
        "fetchall() of plain tuples: the driver alone, in the app's I/O model"
    )

    async def load(self, inspection_id: int) -> Loaded:
        statements = 0
        async with self.conns.psycopg_async.cursor() as cursor:
            await cursor.execute(FLOOR_SQL, {"inspection_id": inspection_id})
            statements += 1
            rows = await cursor.fetchall()
        return Loaded(statements, len(rows), rows)

    def media_ids(self, payload: object) -> list[int]:
        return _row_ids(payload)


class BlockingFloor(Strategy):
    key = "floor_sync"
    label = "bare psycopg, blocking"
    description = (
        "the same again on a blocking psycopg Connection: what Python and libpq need at "
        "least, without an event loop; a GUI cannot block like this, so it is a reference"
    )

    async def load(self, inspection_id: int) -> Loaded:
        statements = 0
        with self.conns.psycopg_sync.cursor() as cursor:
            cursor.execute(FLOOR_SQL, {"inspection_id": inspection_id})
            statements += 1
            rows = cursor.fetchall()
        return Loaded(statements, len(rows), rows)

    def media_ids(self, payload: object) -> list[int]:
        return _row_ids(payload)


STRATEGY_TYPES: tuple[type[Strategy], ...] = (
    NPlusOne,
    PerItemFallback,
    SelectInLoad,
    JoinedLoad,
    AppBatch,
    AppStream,
    AsyncFloor,
    BlockingFloor,
)
STRATEGY_KEYS = tuple(t.key for t in STRATEGY_TYPES)
BASELINE = NPlusOne.key
FLOOR = AsyncFloor.key
BATCH = AppBatch.key
STREAM = AppStream.key


def make_strategies(conns: Connections) -> Sequence[Strategy]:
    return [strategy_type(conns) for strategy_type in STRATEGY_TYPES]
