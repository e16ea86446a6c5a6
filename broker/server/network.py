"""The asyncio network layer: frames in, responses out, one task per connection.

Why this shape: Kafka processes one request at a time per connection (it mutes the channel until
the response is sent), which is what keeps responses in order; a slow request (a long-poll Fetch,
a JoinGroup waiting for a rebalance) only delays its own connection. Frames are read with a
BufferedProtocol straight into their final buffer (no copies), and a declared length is never
trusted for allocation beyond what has actually arrived.
"""
from __future__ import annotations

import asyncio
import logging
import os
import struct
from collections import deque
from typing import Any, Awaitable, Callable, Sequence

log = logging.getLogger("pystreams.broker.server.network")

_SIZE = struct.Struct(">i")
#: Frames above this are grown as bytes arrive rather than allocated from the declared size.
_EAGER_ALLOC = 1 << 20
#: Pause reading a connection once this many requests are queued (Kafka pipelines are bounded).
_MAX_QUEUED = 64
#: ... or once this many request bytes are queued (Kafka's queued.max.request.bytes idea).
_MAX_QUEUED_BYTES = 64 << 20
#: Fetch bytes go out with os.sendfile (docs/adr/0002-fetch-path.md); PYSTREAMS_FETCH_SENDFILE=0
#: switches back to pread + writelines (the A/B switch of bench/broker).
SENDFILE = os.environ.get("PYSTREAMS_FETCH_SENDFILE", "1") != "0" and hasattr(os, "sendfile")


class FileRegion:
    """`nbytes` bytes of an open file from `position`, sent with os.sendfile: the codec counts
    it by nbytes and passes it through as one response item (never read into Python)."""

    __slots__ = ("file", "position", "nbytes")

    def __init__(self, file: Any, position: int, nbytes: int) -> None:
        self.file, self.position, self.nbytes = file, position, nbytes

    def read(self) -> bytes:
        """The bytes themselves (pread), for transports that cannot sendfile."""
        fd = self.file.fileno()
        data = os.pread(fd, self.nbytes, self.position)
        while len(data) < self.nbytes:  # pread may return short
            more = os.pread(fd, self.nbytes - len(data), self.position + len(data))
            if not more:
                raise EOFError(f"segment file shrank under a fetch at {self.position}")
            data += more
        return data


class CloseConnection(Exception):
    """Raised by the request processor to close this connection only (Kafka's behaviour for
    unparseable requests and unsupported API keys/versions)."""


#: process(frame) -> response buffers (or None: no response, e.g. Produce acks=0).
Processor = Callable[[memoryview, "KafkaConnection"], Awaitable[Sequence[bytes | memoryview] | None]]


class KafkaConnection(asyncio.BufferedProtocol):
    """One client connection: size-prefixed frames, processed strictly in arrival order."""

    def __init__(self, process: Processor, max_request_bytes: int,
                 on_close: Callable[["KafkaConnection"], None] | None = None) -> None:
        self._process = process
        self._max = max_request_bytes
        self._on_close = on_close
        self._head = bytearray(4)
        self._head_got = 0
        self._frame: bytearray | None = None
        self._size = 0
        self._got = 0
        self._queue: deque[memoryview] = deque()
        self._queued_bytes = 0
        self._wakeup: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None
        self._reading_paused = False
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self._task: asyncio.Task[None] | None = None
        self.closed = False
        #: whether responses may carry FileRegions (a plain TCP socket we can sendfile to)
        self.sendfile = False
        self._out_fd = -1

    # --- asyncio protocol callbacks ---------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        sock = transport.get_extra_info("socket")
        if SENDFILE and sock is not None and transport.get_extra_info("sslcontext") is None:
            # our own fd for the socket (the transport's is registered with the loop); with a
            # zero high-water mark, pause/resume_writing tell us when the buffer is fully flushed
            self._out_fd = os.dup(sock.fileno())
            self.sendfile = True
            transport.set_write_buffer_limits(high=0, low=0)  # type: ignore[attr-defined]
        self._task = asyncio.get_running_loop().create_task(self._run())
        log.debug("connection opened", extra={"peer": self.peer})

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._frame is None:
            return memoryview(self._head)[self._head_got:]
        if self._got == len(self._frame):
            # A large frame gets its full size only once its first MiB has really arrived, so
            # a few hostile bytes declaring 100 MB cost nothing; growing once keeps it one copy.
            self._frame.extend(bytes(self._size - len(self._frame)))
        return memoryview(self._frame)[self._got:]

    def buffer_updated(self, nbytes: int) -> None:
        if self._frame is None:
            self._head_got += nbytes
            if self._head_got < 4:
                return
            self._head_got = 0
            size = _SIZE.unpack(self._head)[0]
            if size <= 0 or size > self._max:
                log.warning("closing connection: request size out of bounds",
                            extra={"peer": self.peer, "size": size,
                                   "socket.request.max.bytes": self._max})
                self._abort()
                return
            self._size = size
            self._frame = bytearray(min(size, _EAGER_ALLOC))
            self._got = 0
            return
        self._got += nbytes
        if self._got == self._size:
            frame, self._frame = self._frame, None
            self._queue.append(memoryview(frame))
            self._queued_bytes += len(frame)
            if (len(self._queue) >= _MAX_QUEUED or self._queued_bytes >= _MAX_QUEUED_BYTES) \
                    and not self._reading_paused:
                self._reading_paused = True
                self.transport.pause_reading()  # type: ignore[union-attr]
            self._wake()

    def eof_received(self) -> bool | None:
        return False  # close on EOF; queued requests of a half-closed client are dropped

    def connection_lost(self, exc: Exception | None) -> None:
        log.debug("connection closed", extra={"peer": self.peer, "error": str(exc) if exc else None})
        self.closed = True
        self._wake()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        if self._out_fd >= 0:
            fd, self._out_fd = self._out_fd, -1
            asyncio.get_running_loop().remove_writer(fd)
            os.close(fd)
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._on_close is not None:
            self._on_close(self)

    def pause_writing(self) -> None:
        if self._drained is None or self._drained.done():
            self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    # --- request loop -----------------------------------------------------------------------
    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def _abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while not self.closed:
                if not self._queue:
                    self._wakeup = loop.create_future()
                    await self._wakeup
                    continue
                frame = self._queue.popleft()
                self._queued_bytes -= len(frame)
                if self._reading_paused and len(self._queue) < _MAX_QUEUED // 2 \
                        and self._queued_bytes < _MAX_QUEUED_BYTES // 2:
                    self._reading_paused = False
                    self.transport.resume_reading()  # type: ignore[union-attr]
                try:
                    buffers = await self._process(frame, self)
                except CloseConnection as exc:
                    log.info("closing connection", extra={"peer": self.peer, "reason": str(exc)})
                    self._abort()
                    return
                except Exception:
                    log.exception("request failed; closing connection", extra={"peer": self.peer})
                    self._abort()
                    return
                if buffers is None or self.closed:
                    continue
                if any(type(b) is FileRegion for b in buffers):
                    try:
                        await self._write_regions(buffers)
                    except (OSError, EOFError, ValueError) as exc:  # peer gone, file closed
                        log.info("closing connection: fetch send failed",
                                 extra={"peer": self.peer, "reason": str(exc)})
                        self._abort()
                        return
                    continue
                self.transport.writelines(buffers)  # type: ignore[union-attr]
                if self._drained is not None and not self._drained.done():
                    await self._drained
        except asyncio.CancelledError:
            pass

    async def _write_regions(self, buffers: Sequence[Any]) -> None:
        """Write our buffers with the transport and each FileRegion with os.sendfile, in order:
        a region goes out only once everything before it has left the transport's buffer."""
        if not self.sendfile:
            self.transport.writelines([b.read() if type(b) is FileRegion else b  # type: ignore
                                       for b in buffers])
            if self._drained is not None and not self._drained.done():
                await self._drained
            return
        loop = asyncio.get_running_loop()
        pending: list[Any] = []
        for item in buffers:
            if type(item) is not FileRegion:
                pending.append(item)
                continue
            if pending:
                self.transport.writelines(pending)  # type: ignore[union-attr]
                pending = []
            if self._drained is not None and not self._drained.done():
                await self._drained
            if self.closed:
                return
            src, pos, end = item.file.fileno(), item.position, item.position + item.nbytes
            while pos < end:
                try:
                    sent = os.sendfile(self._out_fd, src, pos, end - pos)
                except BlockingIOError:
                    writable = loop.create_future()
                    loop.add_writer(self._out_fd, writable.set_result, None)
                    try:
                        await writable
                    finally:
                        if self._out_fd >= 0:
                            loop.remove_writer(self._out_fd)
                    if self.closed or self._out_fd < 0:
                        return
                    continue
                if sent == 0:
                    raise EOFError(f"segment file shrank under a fetch at {pos}")
                pos += sent
        if pending:
            self.transport.writelines(pending)  # type: ignore[union-attr]
            if self._drained is not None and not self._drained.done():
                await self._drained


class KafkaServer:
    """Listens on (host, port) and runs a KafkaConnection per client."""

    def __init__(self, process: Processor, host: str, port: int, max_request_bytes: int) -> None:
        self._process = process
        self._host = host
        self._port = port
        self._max = max_request_bytes
        self._server: asyncio.base_events.Server | None = None
        self.connections: set[KafkaConnection] = set()

    async def start(self) -> int:
        """Bind and start accepting; returns the bound port (useful with port 0)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: self._track(KafkaConnection(self._process, self._max, self.connections.discard)),
            self._host or None, self._port, reuse_address=True, backlog=1024)
        return self._server.sockets[0].getsockname()[1]

    def _track(self, conn: KafkaConnection) -> KafkaConnection:
        self.connections.add(conn)
        return conn

    async def stop(self) -> None:
        """Stop accepting and close every client connection."""
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.close()
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), 2)
            except asyncio.TimeoutError:
                pass
