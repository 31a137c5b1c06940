"""A loopback TCP proxy that delays traffic, to reproduce a network round trip on one machine.

How it works: it listens on 127.0.0.1 only (an ephemeral port) and forwards each connection to
the real server, over its Unix socket (the embedded server listens on nothing else) or TCP.
Every chunk read from one side is stamped "due at now + RTT/2" and written to the other side
when due, so a request and its answer each wait half the round trip: one statement costs one
RTT more, as over a network. Chunks in flight are not serialised behind one another (a big
result set streams with the delay paid once), which is a link with latency but unlimited
bandwidth: the cost N+1 pays is the round trips, not the bytes.

It runs an asyncio loop in its own daemon thread, because the benchmark also makes blocking
calls (the ORM and bare psycopg) on its main thread, which must not stall the forwarding.
It is bounded (connections, and queued chunks per direction, which gives back-pressure) and
stops itself: on close() or leaving the `with` block, and with the process in any case.
Its loop waits with select(), whose timeout has microsecond resolution (epoll rounds up to
whole milliseconds); the benchmark still measures and reports the RTT it really got.
"""

from __future__ import annotations

import asyncio
import contextlib
import selectors
import threading
from dataclasses import dataclass
from types import TracebackType

from sqlalchemy.engine import URL

LOOPBACK = "127.0.0.1"
CHUNK_BYTES = 64 * 1024
# Per direction of one connection: at most this many chunks (2 MiB) wait for their due time.
QUEUE_CHUNKS = 32
MAX_CONNECTIONS = 128
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
DEFAULT_PG_PORT = 5432


@dataclass(frozen=True, slots=True)
class Upstream:
    """Where the proxy forwards to: a Unix socket path, or a TCP host and port."""

    unix_path: str | None = None
    host: str | None = None
    port: int = DEFAULT_PG_PORT

    def describe(self) -> str:
        return f"unix:{self.unix_path}" if self.unix_path else f"tcp:{self.host}:{self.port}"


def _query_value(url: URL, key: str) -> str | None:
    value = url.query.get(key)
    if isinstance(value, tuple):  # a repeated parameter (libpq's multi-host form): the first
        value = value[0] if value else None
    return value


def upstream_for(url: URL) -> Upstream:
    """The server a libpq URL points at, as libpq would resolve it (first host only)."""
    host = url.host or _query_value(url, "host") or "/var/run/postgresql"
    raw_port = url.port or _query_value(url, "port")
    port = int(raw_port) if raw_port else DEFAULT_PG_PORT
    if host.startswith("/"):
        return Upstream(unix_path=f"{host}/.s.PGSQL.{port}", port=port)
    return Upstream(host=host, port=port)


def url_via_proxy(url: URL, port: int) -> URL:
    """The same database, user and options, reached through the proxy on loopback."""
    query = {k: v for k, v in url.query.items() if k not in ("host", "hostaddr", "port")}
    return url.set(host=LOOPBACK, port=port, query=query)


@dataclass
class ProxyStats:
    connections: int = 0
    refused: int = 0
    bytes_to_server: int = 0
    bytes_to_client: int = 0
    chunks: int = 0


class DelayProxy:
    """Adds `rtt_ms` of round-trip time between clients and `upstream`; use it as a context."""

    def __init__(
        self,
        upstream: Upstream,
        rtt_ms: float,
        *,
        max_connections: int = MAX_CONNECTIONS,
        queue_chunks: int = QUEUE_CHUNKS,
        bandwidth_mbit: float | None = None,
    ) -> None:
        if rtt_ms < 0:
            raise ValueError(f"round-trip time must not be negative, got {rtt_ms}")
        if bandwidth_mbit is not None and bandwidth_mbit <= 0:
            raise ValueError(f"bandwidth must be positive, got {bandwidth_mbit}")
        self.upstream = upstream
        self.rtt_ms = rtt_ms
        # A link of this many Mbit/s each way, shared by all connections: a chunk leaves when
        # the link is free and takes its size / bandwidth to cross (None: unlimited).
        self.bandwidth_mbit = bandwidth_mbit
        self._link_free = {True: 0.0, False: 0.0}  # by direction (towards the server or not)
        # Faults for the tests (each test that uses them says so in its name): refuse and cut
        # every connection (a server that went down), or end each answer after this many bytes.
        self.refusing = False
        self.truncate_answers_at: int | None = None
        self.max_connections = max_connections
        self.queue_chunks = queue_chunks
        self.stats = ProxyStats()
        self.port = 0
        self._one_way_s = rtt_ms / 2000.0
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    # --- owner's side (any thread) -----------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the proxy is already started")
        self._thread = threading.Thread(target=self._main, name="bench-delay-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise RuntimeError("the delay proxy did not start in time")
        if self._failure is not None:
            raise self._failure

    def close(self) -> None:
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop may have ended already
                loop.call_soon_threadsafe(stop.set)
        thread.join(STOP_TIMEOUT_S)
        self._thread = None

    def set_down(self, down: bool) -> None:
        """Fault injection: refuse new connections and cut the open ones, or serve again."""
        self.refusing = down
        loop = self._loop
        if down and loop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._cut_all)

    def _cut_all(self) -> None:
        for task in list(self._handlers):
            task.cancel()

    def __enter__(self) -> DelayProxy:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- the proxy's thread ------------------------------------------------------------------

    def _main(self) -> None:
        try:
            # select() takes its timeout in microseconds; epoll (the default) rounds it up to
            # whole milliseconds, which would add up to 1 ms to every delayed chunk.
            with asyncio.Runner(
                loop_factory=lambda: asyncio.SelectorEventLoop(selectors.SelectSelector())
            ) as runner:
                runner.run(self._serve())
        except BaseException as exc:  # reported to start(); after start it can only be a bug
            self._failure = exc
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._accept, host=LOOPBACK, port=0)
        self.port = int(server.sockets[0].getsockname()[1])
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            server.close()
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if self.refusing or len(self._handlers) >= self.max_connections:
            self.stats.refused += 1
            writer.close()
            return
        self._handlers.add(task)
        self.stats.connections += 1
        try:
            await self._relay(reader, writer)
        except asyncio.CancelledError:
            # Only close() cancels a relay. Ending normally keeps asyncio's stream callback from
            # logging the cancelled handler task as an error.
            pass
        finally:
            self._handlers.discard(task)

    async def _open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.upstream.unix_path is not None:
            return await asyncio.open_unix_connection(self.upstream.unix_path)
        assert self.upstream.host is not None
        return await asyncio.open_connection(self.upstream.host, self.upstream.port)

    async def _relay(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            server_reader, server_writer = await self._open_upstream()
        except OSError:
            client_writer.close()  # the client sees the connection fail, as it would directly
            return
        try:
            async with asyncio.TaskGroup() as group:
                for source, sink, upstream in (
                    (client_reader, server_writer, True),
                    (server_reader, client_writer, False),
                ):
                    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(
                        self.queue_chunks
                    )
                    group.create_task(self._receive(source, queue, upstream))
                    group.create_task(self._send(queue, sink))
        except* (OSError, asyncio.IncompleteReadError):
            pass  # one side went away: the connection is over, as it would be on a network
        finally:
            for writer in (client_writer, server_writer):
                writer.close()

    async def _receive(
        self,
        source: asyncio.StreamReader,
        queue: asyncio.Queue[tuple[float, bytes] | None],
        upstream: bool,
    ) -> None:
        loop = asyncio.get_running_loop()
        answered = 0
        while chunk := await source.read(CHUNK_BYTES):
            cut = self.truncate_answers_at
            if not upstream and cut is not None and answered + len(chunk) >= cut:
                chunk = chunk[: max(0, cut - answered)]
                await queue.put((self._due(loop.time(), len(chunk), upstream), chunk))
                break  # the answer ends here: the client sees the connection close early
            answered += 0 if upstream else len(chunk)
            self.stats.chunks += 1
            if upstream:
                self.stats.bytes_to_server += len(chunk)
            else:
                self.stats.bytes_to_client += len(chunk)
            await queue.put((self._due(loop.time(), len(chunk), upstream), chunk))
        await queue.put(None)

    def _due(self, now: float, size: int, upstream: bool) -> float:
        """When a chunk read now arrives on the other side: after the link is free and has
        carried it (with a bandwidth), plus half the round trip."""
        if self.bandwidth_mbit is None:
            return now + self._one_way_s
        start = max(now, self._link_free[upstream])
        done = start + size * 8 / (self.bandwidth_mbit * 1e6)
        self._link_free[upstream] = done
        return done + self._one_way_s

    async def _send(
        self, queue: asyncio.Queue[tuple[float, bytes] | None], sink: asyncio.StreamWriter
    ) -> None:
        loop = asyncio.get_running_loop()
        while (item := await queue.get()) is not None:
            due, chunk = item
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            sink.write(chunk)
            await sink.drain()
        if sink.can_write_eof():
            sink.write_eof()  # pass the half-close on, so the other side sees the end
