"""A small TCP proxy in front of one Kafka broker that can hold back one transactional Produce
request and deliver it later (after its transaction has ended), to test KIP-890's rule that a
late produce can never join a later transaction.

Metadata, FindCoordinator and DescribeCluster responses are rewritten so clients keep talking
through the proxy (the broker advertises its own port), and ApiVersions answers are narrowed to
the versions the project's sans-IO codec (which the proxy uses) can read."""
from __future__ import annotations

import socket
import struct
import threading

from pystreams.broker import protocol

_REWRITE = {3, 10, 18, 60}  # Metadata, FindCoordinator, ApiVersions, DescribeCluster


def _read_frame(sock: socket.socket) -> bytes | None:
    head = _read_exact(sock, 4)
    if head is None:
        return None
    return _read_exact(sock, struct.unpack(">i", head)[0])


def _read_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except OSError:
            return None
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


class DelayingProxy:
    """`with DelayingProxy(host, port) as proxy:` clients use `proxy.bootstrap_servers`."""

    def __init__(self, upstream: str) -> None:
        host, _, port = upstream.rpartition(":")
        self.upstream = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._armed = threading.Event()
        self.held = threading.Event()
        self._held: tuple[bytes, socket.socket, threading.Lock, int] | None = None
        self._late: dict | None = None
        self._late_done = threading.Event()
        self._closing = False
        self._sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def arm(self) -> None:
        """Hold back the next Produce request that carries a transactional.id."""
        self._armed.set()

    def release(self, timeout: float = 30.0) -> dict:
        """Deliver the held Produce to the broker now; returns the broker's decoded response."""
        assert self._held is not None, "no Produce request was held"
        frame, upstream, lock, _ = self._held
        with lock:
            upstream.sendall(struct.pack(">i", len(frame)) + frame)
        assert self._late_done.wait(timeout), "the broker did not answer the late Produce"
        assert self._late is not None
        return self._late

    def close(self) -> None:
        self._closing = True
        for s in self._sockets:
            try:
                s.close()
            except OSError:
                pass

    def __enter__(self) -> "DelayingProxy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing -------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            self._sockets += [client, upstream]
            pending: dict[int, protocol.RequestHeader] = {}
            lock = threading.Lock()
            threading.Thread(target=self._client_to_broker,
                             args=(client, upstream, pending, lock), daemon=True).start()
            threading.Thread(target=self._broker_to_client,
                             args=(upstream, client, pending), daemon=True).start()

    def _client_to_broker(self, client, upstream, pending, lock) -> None:
        while True:
            frame = _read_frame(client)
            if frame is None:
                break
            header, offset = protocol.decode_request_header(frame)
            pending[header.correlation_id] = header
            if header.api_key == 0 and self._armed.is_set() and self._held is None:
                body = protocol.decode_request(header, frame, offset)
                if body.get("transactional_id"):
                    self._armed.clear()
                    self._held = (frame, upstream, lock, header.correlation_id)
                    self.held.set()
                    continue
            with lock:
                try:
                    upstream.sendall(struct.pack(">i", len(frame)) + frame)
                except OSError:
                    break
        if self._held is None or self._held[1] is not upstream:
            upstream.close()  # (kept open while it still has to carry the held request)

    def _broker_to_client(self, upstream, client, pending) -> None:
        while True:
            frame = _read_frame(upstream)
            if frame is None:
                break
            (corr,) = struct.unpack_from(">i", frame)
            header = pending.pop(corr, None)
            if self._held is not None and self._held[1] is upstream and self._held[3] == corr:
                self._late = protocol.decode_response(header.api_key, header.api_version,
                                                      frame)[1]
                self._late_done.set()
                continue  # its client gave up on it long ago
            if header is not None and header.api_key in _REWRITE:
                _, body = protocol.decode_response(header.api_key, header.api_version, frame)
                self._rewrite(body)
                out = b"".join(bytes(p) for p in protocol.encode_response(header, body))
            else:
                out = struct.pack(">i", len(frame)) + frame
            try:
                client.sendall(out)
            except OSError:
                pass  # the client left; keep reading (a held request may still answer)

    def _rewrite(self, body: dict) -> None:
        if "api_keys" in body:  # versions the proxy's codec can read, so it can rewrite them
            keys = []
            for k in body["api_keys"]:
                ours = protocol.SUPPORTED_VERSIONS.get(k["api_key"])
                if ours and max(ours[0], k["min_version"]) <= min(ours[1], k["max_version"]):
                    keys.append({**k, "min_version": max(ours[0], k["min_version"]),
                                 "max_version": min(ours[1], k["max_version"])})
            body["api_keys"] = keys
        for broker in body.get("brokers") or []:
            broker["host"], broker["port"] = "127.0.0.1", self.port
        if body.get("port", -1) > 0:
            body["host"], body["port"] = "127.0.0.1", self.port
        for coordinator in body.get("coordinators") or []:
            if coordinator.get("port", -1) > 0:
                coordinator["host"], coordinator["port"] = "127.0.0.1", self.port
