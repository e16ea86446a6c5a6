"""KafkaConnection framing with a fake transport: frames split anywhere, in-order processing,
size limits enforced before any allocation from the declared length."""
from __future__ import annotations

import asyncio
import struct

import pytest

from pystreams.broker.server.network import CloseConnection, KafkaConnection

pytestmark = pytest.mark.unit


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.aborted = False
        self.paused = False

    def get_extra_info(self, name, default=None):
        return ("127.0.0.1", 5555) if name == "peername" else default

    def writelines(self, data) -> None:
        self.written.append(b"".join(bytes(d) for d in data))

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.aborted = True

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False


def _feed(conn: KafkaConnection, data: bytes, chunk: int) -> None:
    pos = 0
    while pos < len(data) and not conn.closed:
        buf = conn.get_buffer(-1)
        n = min(chunk, len(buf), len(data) - pos)
        buf[:n] = data[pos:pos + n]
        conn.buffer_updated(n)
        pos += n


def _frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


@pytest.mark.parametrize("chunk", [1, 3, 7, 4096])
def test_frames_split_anywhere_are_processed_in_order(chunk):
    async def scenario():
        seen: list[bytes] = []

        async def process(frame, conn):
            await asyncio.sleep(0.001 if frame[0] % 2 else 0)  # uneven handler latency
            seen.append(bytes(frame))
            return [b"re:" + bytes(frame)]

        conn = KafkaConnection(process, 1 << 20)
        transport = FakeTransport()
        conn.connection_made(transport)
        payloads = [bytes([i]) * (i * 37 % 300 + 1) for i in range(20)]
        _feed(conn, b"".join(_frame(p) for p in payloads), chunk)
        for _ in range(200):
            await asyncio.sleep(0.002)
            if len(transport.written) == len(payloads):
                break
        conn.connection_lost(None)
        return seen, transport.written, payloads

    seen, written, payloads = asyncio.run(scenario())
    assert seen == payloads
    assert written == [b"re:" + p for p in payloads]


@pytest.mark.parametrize("size", [0, -1, 2**31 - 1, 1001])
def test_bad_sizes_abort_before_allocating(size):
    async def scenario():
        async def process(frame, conn):
            raise AssertionError("no frame may reach the handler")

        conn = KafkaConnection(process, max_request_bytes=1000)
        transport = FakeTransport()
        conn.connection_made(transport)
        _feed(conn, struct.pack(">i", size), 4)
        conn.connection_lost(None)
        return transport.aborted, conn._frame

    aborted, frame = asyncio.run(scenario())
    assert aborted and frame is None


def test_large_declared_frame_allocates_only_what_arrives():
    async def scenario():
        async def process(frame, conn):
            return None

        conn = KafkaConnection(process, max_request_bytes=100 << 20)
        conn.connection_made(FakeTransport())
        _feed(conn, struct.pack(">i", 90 << 20) + b"x" * 100, 4096)
        allocated = len(conn._frame)
        conn.connection_lost(None)
        return allocated

    assert asyncio.run(scenario()) <= 1 << 20  # 100 bytes sent: at most the first MiB reserved


def test_close_connection_from_the_processor_aborts():
    async def scenario():
        async def process(frame, conn):
            raise CloseConnection("unsupported")

        conn = KafkaConnection(process, 1000)
        transport = FakeTransport()
        conn.connection_made(transport)
        _feed(conn, _frame(b"abc") + _frame(b"def"), 100)
        await asyncio.sleep(0.01)
        return transport.aborted, transport.written

    aborted, written = asyncio.run(scenario())
    assert aborted and written == []
