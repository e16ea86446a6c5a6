"""A small asyncio TCP proxy for Kafka connections on 127.0.0.1 that can hold back one request.

    proxy = HoldingProxy().start()           # listens on a free port, in a thread of its own
    proxy.upstream = ("127.0.0.1", broker_port)
    # the broker advertises the proxy (advertised.listeners=PLAINTEXT://127.0.0.1:<proxy.port>),
    # so every connection a client opens goes through it; nothing is rewritten.
    hold = proxy.hold(lambda r: r.api_key == PRODUCE and r.transactional_id == "tx",
                      release_after=lambda r, error: r.api_key == END_TXN
                      and r.transactional_id == "tx")
    hold.held.wait(30); hold.done.wait(60); hold.response_errors   # the late Produce's fate

Why release *after* a trigger response rather than after a sleep: the held Produce is sent to
the broker as soon as the trigger's response (e.g. the transaction's EndTxn) comes back from the
broker and before that response is passed on to the client, and its answer is awaited first; so
the late Produce reaches the broker after its transaction ended and before the client can start
the next one, every time (KIP-890's case: a produce to a partition no ongoing transaction holds).

Only request headers, the leading transactional_id of a few requests and the error codes of
Produce/EndTxn responses are parsed (Kafka's wire format, by version); all bytes are forwarded
unchanged. When the client of a held request disconnects (it timed the request out), the
upstream connection is kept until the held request has been delivered and answered."""
from __future__ import annotations

import asyncio
import struct
import threading
from dataclasses import dataclass, field
from typing import Callable

PRODUCE, ADD_PARTITIONS_TO_TXN, END_TXN, INIT_PRODUCER_ID = 0, 24, 26, 22
#: api key -> first flexible version (request header v2 / response header v1 from there on)
_FLEXIBLE = {0: 9, 1: 12, 3: 9, 8: 8, 9: 6, 10: 3, 11: 6, 12: 4, 13: 4, 14: 4, 15: 5, 18: 3,
             19: 5, 22: 2, 24: 3, 25: 3, 26: 3, 28: 3, 32: 4, 36: 2, 37: 2, 60: 0, 65: 0}
#: api keys whose request body starts with transactional_id (from the version given on)
_TXN_ID_FIRST = {PRODUCE: 3, END_TXN: 0, INIT_PRODUCER_ID: 0, 25: 0, 28: 0}


@dataclass(frozen=True)
class RequestInfo:
    """What the proxy read of one request: enough to pick one out."""

    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None
    transactional_id: str | None
    connection: int


@dataclass
class Hold:
    """One request to hold: set when it is caught, done when the broker answered it late."""

    match: Callable[[RequestInfo], bool]
    release_after: Callable[[RequestInfo, int | None], bool]
    held: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    request: RequestInfo | None = None
    trigger: tuple[RequestInfo, int | None] | None = None
    response_errors: list[int] | None = None
    failure: str | None = None
    frame: bytes = field(default=b"", repr=False)
    writer: asyncio.StreamWriter | None = field(default=None, repr=False)
    answered: asyncio.Future[None] | None = field(default=None, repr=False)


class _Reader:
    """Cursor over a frame, Kafka primitive types."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return int(value)

    def uvarint(self) -> int:
        shift = result = 0
        while True:
            byte = self.data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7

    def string(self, compact: bool) -> str | None:
        n = self.uvarint() - 1 if compact else self.take(">h")
        if n < 0:
            return None
        text = self.data[self.pos:self.pos + n].decode("utf-8", "replace")
        self.pos += n
        return text

    def skip_tags(self) -> None:
        for _ in range(self.uvarint()):
            self.uvarint()
            self.pos += self.uvarint()

    def array_len(self, compact: bool) -> int:
        return self.uvarint() - 1 if compact else self.take(">i")


def parse_request(frame: bytes, connection: int) -> RequestInfo:
    """Header and leading transactional_id of a request frame (without its length prefix)."""
    r = _Reader(frame)
    key, version, corr = r.take(">h"), r.take(">h"), r.take(">i")
    client_id = r.string(compact=False)
    flexible = version >= _FLEXIBLE.get(key, 99)
    txn_id = None
    try:
        if flexible:
            r.skip_tags()
        if key in _TXN_ID_FIRST and version >= _TXN_ID_FIRST[key]:
            txn_id = r.string(compact=flexible)
    except (struct.error, IndexError):
        txn_id = None
    return RequestInfo(key, version, corr, client_id, txn_id, connection)


def response_errors(request: RequestInfo, frame: bytes) -> list[int] | None:
    """Error codes of a Produce (every partition) or EndTxn response; None for other APIs."""
    key, version = request.api_key, request.api_version
    flexible = version >= _FLEXIBLE.get(key, 99)
    r = _Reader(frame, 4)  # correlation id
    try:
        if flexible and key != 18:
            r.skip_tags()
        if key == END_TXN:
            r.take(">i")  # throttle_time_ms
            return [r.take(">h")]
        if key != PRODUCE:
            return None
        errors = []
        for _ in range(r.array_len(flexible)):
            if version >= 13:
                r.pos += 16  # topic_id
            else:
                r.string(compact=flexible)
            for _ in range(r.array_len(flexible)):
                r.take(">i")  # partition index
                errors.append(r.take(">h"))
                r.pos += 8 + (8 if version >= 2 else 0) + (8 if version >= 5 else 0)
                if version >= 8:
                    for _ in range(r.array_len(flexible)):  # record_errors
                        r.take(">i")
                        r.string(compact=flexible)
                        if flexible:
                            r.skip_tags()
                    r.string(compact=flexible)  # error_message
                if flexible:
                    r.skip_tags()  # (current_leader lives here from v10)
            if flexible:
                r.skip_tags()
        return errors
    except (struct.error, IndexError):
        return None


class HoldingProxy:
    """TCP proxy for Kafka clients; see the module docstring."""

    def __init__(self, upstream: tuple[str, int] | None = None) -> None:
        self.upstream = upstream
        self.port = 0
        self.requests_seen = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="holding-proxy")
        self._server: asyncio.base_events.Server | None = None
        self._holds: list[Hold] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self._connections = 0

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "HoldingProxy":
        """Listen on a free 127.0.0.1 port (self.port) in a background thread."""
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def hold(self, match: Callable[[RequestInfo], bool],
             release_after: Callable[[RequestInfo, int | None], bool]) -> Hold:
        """Hold the next request `match` accepts until a response `release_after` accepts
        (called with the answered request and its error code, if parsed) has come back."""
        hold = Hold(match, release_after)
        self._holds.append(hold)
        return hold

    def drop_connections(self) -> None:
        """Close every proxied connection (clients reconnect), e.g. after a broker restart."""
        def close_all() -> None:
            for writer in list(self._writers):
                writer.close()
        self._loop.call_soon_threadsafe(close_all)

    def close(self) -> None:
        """Stop listening, close all connections, stop the thread (bounded)."""
        if not self._thread.is_alive():
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._writers):
                writer.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> "HoldingProxy":
        return self.start() if not self.port else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------

    async def _serve(self, client_r: asyncio.StreamReader,
                     client_w: asyncio.StreamWriter) -> None:
        self._connections += 1
        conn = self._connections
        self._writers.add(client_w)
        if self.upstream is None:
            client_w.close()
            return
        try:
            broker_r, broker_w = await asyncio.wait_for(
                asyncio.open_connection(*self.upstream), 5)
        except (OSError, asyncio.TimeoutError):
            client_w.close()  # broker down: the client sees a refused/closed connection
            self._writers.discard(client_w)
            return
        self._writers.add(broker_w)
        pending: dict[int, RequestInfo] = {}
        held: dict[int, Hold] = {}  # correlation id -> hold, of this connection
        answered: dict[int, asyncio.Future[None]] = {}
        down = asyncio.create_task(self._to_client(broker_r, client_w, pending, held, answered))
        try:
            while True:
                head = await client_r.readexactly(4)
                frame = await client_r.readexactly(struct.unpack(">i", head)[0])
                info = parse_request(frame, conn)
                self.requests_seen += 1
                pending[info.correlation_id] = info
                hold = next((h for h in self._holds if h.request is None and h.match(info)),
                            None)
                if hold is not None:
                    hold.request = info
                    held[info.correlation_id] = hold
                    answered[info.correlation_id] = self._loop.create_future()
                    hold.frame, hold.writer = head + frame, broker_w
                    hold.answered = answered[info.correlation_id]
                    hold.held.set()
                    continue
                broker_w.write(head + frame)
                await broker_w.drain()
        except (asyncio.IncompleteReadError, OSError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(client_w)
            client_w.close()
            try:
                if held and not all(f.done() for f in answered.values()):
                    await asyncio.wait_for(asyncio.gather(*answered.values()), 120)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
            down.cancel()
            broker_w.close()
            self._writers.discard(broker_w)

    async def _to_client(self, broker_r: asyncio.StreamReader, client_w: asyncio.StreamWriter,
                         pending: dict[int, RequestInfo], held: dict[int, Hold],
                         answered: dict[int, asyncio.Future[None]]) -> None:
        try:
            while True:
                head = await broker_r.readexactly(4)
                frame = await broker_r.readexactly(struct.unpack(">i", head)[0])
                (corr,) = struct.unpack_from(">i", frame)
                info = pending.pop(corr, None)
                if corr in held:  # the late answer: recorded, not passed on (client gave up)
                    hold = held.pop(corr)
                    hold.response_errors = response_errors(info, frame) if info else None
                    answered[corr].set_result(None)
                    hold.done.set()
                    continue
                if info is not None:
                    await self._release_triggered(info, frame)
                if not client_w.is_closing():
                    client_w.write(head + frame)
                    await client_w.drain()
        except (asyncio.IncompleteReadError, OSError, asyncio.CancelledError):
            pass
        finally:
            for future in answered.values():
                if not future.done():
                    future.set_result(None)
            for hold in held.values():
                if not hold.done.is_set():
                    hold.failure = "the broker connection closed before the late answer"
                    hold.done.set()
            if not client_w.is_closing():
                client_w.close()

    async def _release_triggered(self, info: RequestInfo, frame: bytes) -> None:
        """Before a trigger response goes to its client: deliver the held request, await it."""
        for hold in self._holds:
            if hold.request is None or hold.trigger is not None:
                continue
            errors = response_errors(info, frame)
            if not hold.release_after(info, errors[0] if errors else None):
                continue
            hold.trigger = (info, errors[0] if errors else None)
            assert hold.writer is not None and hold.answered is not None
            try:
                hold.writer.write(hold.frame)
                await hold.writer.drain()
                await asyncio.wait_for(asyncio.shield(hold.answered), 30)
            except (OSError, asyncio.TimeoutError) as exc:
                hold.failure = f"late request not answered: {exc!r}"
                hold.done.set()
