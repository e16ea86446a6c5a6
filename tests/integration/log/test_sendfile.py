"""FetchSlice chunks go to a socket with os.sendfile unchanged (the server's zero-copy path),
even when the slice spans segments."""
from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from pystreams.broker.log import LogConfig, PartitionLog
from tests.fixtures.log_storage import make_batch

pytestmark = pytest.mark.integration


def test_sendfile_of_fetch_chunks_delivers_the_stored_bytes(tmp_path: Path) -> None:
    log = PartitionLog.open(tmp_path / "t-0", LogConfig.from_props({"segment.bytes": "5000"}))
    for i in range(60):
        log.append(memoryview(make_batch(3, value_size=200, tag=i)), now_ms=1)
    fetched = log.read(7, 20_000)
    assert len(fetched.chunks) > 1 and fetched.size <= 20_000
    expected = fetched.to_bytes()
    left, right = socket.socketpair()
    received = bytearray()

    def drain() -> None:
        while len(received) < fetched.size:
            data = right.recv(65536)
            if not data:
                break
            received.extend(data)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        for f, pos, length in fetched.chunks:
            sent = 0
            while sent < length:
                sent += os.sendfile(left.fileno(), f.fileno(), pos + sent, length - sent)
    finally:
        reader.join(timeout=10)
        left.close()
        right.close()
        log.close()
    assert bytes(received) == expected and len(received) == fetched.size
