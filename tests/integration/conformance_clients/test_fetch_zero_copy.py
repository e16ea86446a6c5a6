"""Our fetch path sends the segment files' bytes as they are: a raw Fetch of several partitions
returns exactly the bytes of their `.log` files, with os.sendfile (the default) and with the
pread path (PYSTREAMS_FETCH_SENDFILE=0), also when the client reads slowly so the socket buffer
fills and the broker must wait for it (the EAGAIN path), and other clients are served meanwhile.
"""
from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.integration.conformance_clients.wire import Wire

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PARTITIONS = 3
PER_PARTITION = 3000  # ~3 MiB per partition: far more than a loopback socket buffer holds


def _fill(servers: str, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": servers})
    admin.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result(30)
    producer = Producer({"bootstrap.servers": servers, "linger.ms": 5})
    for i in range(PER_PARTITION * PARTITIONS):
        producer.produce(topic, os.urandom(1000), key=str(i).encode(), partition=i % PARTITIONS)
        if i % 1000 == 0:
            producer.poll(0)
    assert producer.flush(60) == 0


def _fetch_all(servers: str, topic: str, slow: bool) -> list[bytes]:
    w = Wire(servers, timeout=60)
    try:
        body = {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 0, "max_bytes": 64 << 20,
                "isolation_level": 0, "session_id": 0, "session_epoch": -1,
                "topics": [{"topic": topic, "partitions": [
                    {"partition": p, "fetch_offset": 0, "partition_max_bytes": 32 << 20}
                    for p in range(PARTITIONS)]}], "forgotten_topics_data": []}
        if slow:  # let the broker hit a full socket buffer before we read anything
            w.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
            real_read = w._read

            def slow_read(n: int) -> bytes | None:
                if n > 4:  # the body: ~9 MiB are waiting to be sent by now
                    time.sleep(0.3)
                return real_read(n)
            w._read = slow_read  # type: ignore[method-assign]
        answer = w.request(1, 12, body)
        parts = {p["partition_index"]: bytes(p["records"] or b"")
                 for p in answer["responses"][0]["partitions"]}
        assert all(p["error_code"] == 0 for p in answer["responses"][0]["partitions"])
        return [parts[p] for p in range(PARTITIONS)]
    finally:
        w.close()


def _segment_bytes(data_dir: Path, topic: str, partition: int) -> bytes:
    return (data_dir / f"{topic}-{partition}" / f"{0:020d}.log").read_bytes()


@pytest.mark.parametrize("sendfile", ["1", "0"], ids=["sendfile", "pread"])
def test_fetch_returns_the_segment_bytes(pystreams_broker_factory, monkeypatch,
                                         sendfile: str) -> None:
    monkeypatch.setenv("PYSTREAMS_FETCH_SENDFILE", sendfile)
    broker = pystreams_broker_factory()
    topic = f"zero-copy-{uuid.uuid4().hex[:6]}"
    _fill(broker.bootstrap_servers, topic)

    other: list[float] = []

    def other_client() -> None:  # a second connection is served while the big one waits
        with Wire(broker.bootstrap_servers) as w:
            start = time.monotonic()
            w.request(18, 3, {"client_software_name": "t", "client_software_version": "1"})
            other.append(time.monotonic() - start)

    stored = [_segment_bytes(broker.data_dir, topic, p) for p in range(PARTITIONS)]
    assert all(len(s) > PER_PARTITION * 1000 for s in stored)
    assert _fetch_all(broker.bootstrap_servers, topic, slow=False) == stored

    side = threading.Timer(0.1, other_client)
    side.start()
    assert _fetch_all(broker.bootstrap_servers, topic, slow=True) == stored
    side.join()
    assert other and other[0] < 5, "another client waited for the slow fetch"
