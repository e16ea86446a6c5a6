"""Per-connection ordering and cross-connection independence: a long-poll Fetch delays only its
own connection, and pipelined requests are answered in the order they were sent."""
from __future__ import annotations

import socket
import struct
import time
import uuid

import pytest

from pystreams.broker.protocol import RequestHeader, decode_response, encode_request

from tests.integration.broker._clients import create_topic, unique

pytestmark = pytest.mark.integration

API_VERSIONS = {"client_software_name": "t", "client_software_version": "1"}


def _sock(bs: str) -> socket.socket:
    host, port = bs.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=15)


def _read(sock: socket.socket) -> bytes:
    def exact(n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            assert chunk, "connection closed"
            buf += chunk
        return buf
    (size,) = struct.unpack(">i", exact(4))
    return exact(size)


def _fetch_body(topic: str, wait_ms: int) -> dict:
    return {"replica_id": -1, "max_wait_ms": wait_ms, "min_bytes": 1, "max_bytes": 1 << 20,
            "isolation_level": 0, "session_id": 0, "session_epoch": -1,
            "topics": [{"topic": topic, "partitions": [
                {"partition": 0, "fetch_offset": 0, "partition_max_bytes": 1 << 20}]}],
            "forgotten_topics_data": [], "rack_id": ""}


def test_long_poll_does_not_block_other_connections(pystreams_broker):
    bs = pystreams_broker.bootstrap_servers
    topic = unique("lp")
    create_topic(bs, topic)
    waiting, other = _sock(bs), _sock(bs)
    try:
        start = time.monotonic()
        waiting.sendall(encode_request(RequestHeader(1, 12, 1, "t"), _fetch_body(topic, 2000)))
        time.sleep(0.1)
        other.sendall(encode_request(RequestHeader(18, 3, 2, "t"), API_VERSIONS))
        corr, body = decode_response(18, 3, _read(other))
        assert corr == 2 and body["error_code"] == 0
        assert time.monotonic() - start < 1.0  # answered while the fetch still waits
        corr, body = decode_response(1, 12, _read(waiting))
        assert corr == 1 and time.monotonic() - start >= 1.9  # the fetch waited max_wait_ms
    finally:
        waiting.close()
        other.close()


def test_pipelined_requests_are_answered_in_order(pystreams_broker):
    bs = pystreams_broker.bootstrap_servers
    topic = unique("pipe")
    create_topic(bs, topic)
    sock = _sock(bs)
    try:
        plan = []
        payload = b""
        for corr in range(1, 31):
            if corr % 10 == 5:  # a slow one in the middle: a fetch that waits 300 ms
                api, version, body = 1, 12, _fetch_body(topic, 300)
            elif corr % 2:
                api, version, body = 3, 12, {"topics": [{"topic_id": uuid.UUID(int=0),
                                                         "name": topic}],
                                             "allow_auto_topic_creation": False,
                                             "include_topic_authorized_operations": False}
            else:
                api, version, body = 18, 3, API_VERSIONS
            plan.append((corr, api, version))
            payload += encode_request(RequestHeader(api, version, corr, "t"), body)
        sock.sendall(payload)  # all thirty at once
        for corr, api, version in plan:
            got, _ = decode_response(api, version, _read(sock))
            assert got == corr
    finally:
        sock.close()
