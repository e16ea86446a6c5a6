"""A minimal blocking Kafka client over a raw socket, using our codec, to ask both brokers the
same low-level questions (error codes, batch attributes) that the client libraries hide."""
from __future__ import annotations

import socket
import struct
from typing import Any

from pystreams.broker import protocol

#: What `request` returns when the broker closed the connection instead of answering.
CLOSED = "connection closed"


class Wire:
    """One connection to `host:port`; request() sends a body and decodes the answer."""

    def __init__(self, servers: str, timeout: float = 15.0) -> None:
        host, _, port = servers.rpartition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.correlation = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Wire":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send_raw(self, frame: bytes) -> bytes | None:
        """Send a whole frame (size prefix included); the response frame or None if closed."""
        try:
            self.sock.sendall(frame)
            head = self._read(4)
            if head is None:
                return None
            return self._read(struct.unpack(">i", head)[0])
        except (ConnectionResetError, BrokenPipeError):
            return None

    def request(self, api_key: int, version: int, body: dict[str, Any],
                response_version: int | None = None) -> dict[str, Any] | str:
        """The decoded response body, or CLOSED."""
        self.correlation += 1
        header = protocol.RequestHeader(api_key, version, self.correlation, "conformance")
        frame = self.send_raw(protocol.encode_request(header, body))
        if frame is None:
            return CLOSED
        correlation, decoded = protocol.decode_response(
            api_key, version if response_version is None else response_version, frame)
        assert correlation == self.correlation
        return decoded

    def raw_request(self, api_key: int, version: int, body: bytes = b"") -> bytes | None:
        """A request whose header we write by hand (versions our codec cannot encode)."""
        self.correlation += 1
        client = b"conformance"
        head = struct.pack(">hhih", api_key, version, self.correlation, len(client)) + client
        if protocol.request_header_version(api_key, version) == 2:
            head += b"\x00"  # empty tagged fields of a flexible header
        payload = head + body
        return self.send_raw(struct.pack(">i", len(payload)) + payload)

    def _read(self, n: int) -> bytes | None:
        data = bytearray()
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return bytes(data)
