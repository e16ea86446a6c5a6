"""Hostile and broken input from raw sockets: the offending connection is answered the way Kafka
answers or closed, and every other client keeps working."""
from __future__ import annotations

import random
import socket
import struct

import pytest

from pystreams.broker.protocol import RequestHeader, decode_response, encode_request

pytestmark = pytest.mark.integration


def _connect(bs: str) -> socket.socket:
    host, port = bs.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _recv_frame(sock: socket.socket) -> bytes:
    head = _recv_exact(sock, 4)
    (size,) = struct.unpack(">i", head)
    return _recv_exact(sock, size)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def _closed_by_broker(sock: socket.socket) -> bool:
    sock.settimeout(10)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def _api_versions(sock: socket.socket, version: int = 3, correlation_id: int = 7) -> dict:
    body = {"client_software_name": "raw", "client_software_version": "1"}
    sock.sendall(encode_request(RequestHeader(18, version, correlation_id, "raw"), body))
    corr, decoded = decode_response(18, min(version, 4) if version <= 4 else 0, _recv_frame(sock))
    assert corr == correlation_id
    return decoded


@pytest.fixture
def healthy(pystreams_broker):
    """A well-behaved connection opened before the abuse and checked after it."""
    sock = _connect(pystreams_broker.bootstrap_servers)
    assert _api_versions(sock)["error_code"] == 0
    yield sock
    assert _api_versions(sock, correlation_id=8)["error_code"] == 0
    sock.close()
    fresh = _connect(pystreams_broker.bootstrap_servers)
    assert _api_versions(fresh, correlation_id=9)["error_code"] == 0
    fresh.close()


@pytest.mark.parametrize("payload", [
    # a whole frame of seeded random bytes (a random size prefix would often announce a frame
    # longer than what is sent, and a broker rightly waits for the rest)
    pytest.param(struct.pack(">i", 4092) + random.Random(20261127).randbytes(4092), id="random-bytes"),
    pytest.param(struct.pack(">i", 104857601) + b"\0" * 16, id="over-socket.request.max.bytes"),
    pytest.param(struct.pack(">i", 2**31 - 1) + b"\0" * 16, id="hostile-length"),
    pytest.param(struct.pack(">i", -5) + b"\0" * 16, id="negative-length"),
    pytest.param(struct.pack(">i", 6) + b"\0\x03\0\0\0\0", id="frame-shorter-than-header"),
    pytest.param(struct.pack(">ihhih", 10, 1000, 0, 1, -1), id="unknown-api-key"),
    pytest.param(struct.pack(">ihhih", 10, 3, 99, 1, -1), id="unsupported-metadata-version"),
    # Metadata v1: 8 bytes of header, then an array length of 2^31-1 and nothing else
    pytest.param(struct.pack(">ihhihi", 14, 3, 1, 1, -1, 2**31 - 1), id="huge-array-count"),
])
def test_bad_frame_closes_only_that_connection(pystreams_broker, healthy, payload):
    sock = _connect(pystreams_broker.bootstrap_servers)
    try:
        sock.sendall(payload)
        assert _closed_by_broker(sock)
    finally:
        sock.close()


def test_truncated_frame_then_disconnect(pystreams_broker, healthy):
    sock = _connect(pystreams_broker.bootstrap_servers)
    sock.sendall(struct.pack(">i", 1000) + b"\0" * 10)
    sock.close()  # the broker must just drop the half frame


def test_api_versions_unknown_version_gets_v0_fallback(pystreams_broker, healthy):
    sock = _connect(pystreams_broker.bootstrap_servers)
    try:
        sock.sendall(_raw_api_versions(version=99, correlation_id=5))
        corr, body = decode_response(18, 0, _recv_frame(sock))
        assert corr == 5
        assert body["error_code"] == 35  # UNSUPPORTED_VERSION
        keys = {k["api_key"]: (k["min_version"], k["max_version"]) for k in body["api_keys"]}
        assert keys[18] == (0, 4) and 0 in keys and 1 in keys
        # the client retries with a version we listed, on the same connection
        assert _api_versions(sock, version=3, correlation_id=6)["error_code"] == 0
    finally:
        sock.close()


def _raw_api_versions(version: int, correlation_id: int) -> bytes:
    # v3+ uses request header v2 (tagged fields); a future version carries the same layout
    body = struct.pack(">hhih", 18, version, correlation_id, 3) + b"raw" + b"\x00" \
        + b"\x04raw" + b"\x021" + b"\x00"
    return struct.pack(">i", len(body)) + body


def test_garbage_bodies_for_every_served_api(pystreams_broker, healthy):
    """A well-formed header followed by random bytes, for every API and version we advertise:
    each gets an answer or a closed connection, never a hang, and the broker stays up."""
    import random

    from pystreams.broker.server.handlers import advertised_versions
    rng = random.Random(1234)
    for api, (lo, hi) in sorted(advertised_versions().items()):
        for version in {lo, hi}:
            for _ in range(3):
                sock = _connect(pystreams_broker.bootstrap_servers)
                try:
                    flexible_header = version >= _first_flexible(api)
                    header = struct.pack(">hhih", api, version, 1, 1) + b"x" + \
                        (b"\x00" if flexible_header else b"")
                    body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
                    frame = header + body
                    sock.sendall(struct.pack(">i", len(frame)) + frame)
                    sock.settimeout(10)
                    try:
                        sock.recv(1 << 16)  # a response or EOF; a timeout means a hang
                    except (ConnectionResetError, BrokenPipeError):
                        pass
                finally:
                    sock.close()


def _first_flexible(api: int) -> int:
    from pystreams.broker.protocol import FIRST_FLEXIBLE_VERSION
    first = FIRST_FLEXIBLE_VERSION.get(api)
    return first if first is not None else 1 << 15
