"""One blocking connection to one broker: frame a request with the sans-IO codec, read its answer, and negotiate
API versions (ApiVersions) on connect, then TLS and SASL as security.protocol asks (runtime/group/security.py,
sasl.py). Every socket operation has a timeout; a failure closes the connection and
raises BrokerConnectionError (the caller reconnects or re-finds the coordinator)."""
from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Any

from pystreams.broker.protocol import (SUPPORTED_VERSIONS, ApiKey, CorruptMessageError, ErrorCode, RequestHeader,
                                       decode_response, encode_request)
from pystreams.runtime.group.errors import BrokerConnectionError
from pystreams.runtime.group.security import ClientSecurity, SslAuthenticationError

_SIZE = struct.Struct(">i")
_MAX_FRAME = 256 * 1024 * 1024
#: The newest version we send of each API: what the codec implements, capped where a newer version changes
#: semantics we do not use (OffsetCommit/OffsetFetch v9+ and JoinGroup are the classic-group forms either way).
_CAPS = {ApiKey.API_VERSIONS: 3}


class BrokerConnection:
    """A socket to host:port; request() is serialized by a lock, so two threads may share one connection."""

    def __init__(self, host: str, port: int, client_id: str, timeout_s: float = 10.0,
                 security: ClientSecurity | None = None) -> None:
        self.host, self.port = host, port
        self.security = security or ClientSecurity()
        self.client_id = client_id
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._correlation = 0
        self._sock: socket.socket | None = None
        self._aborted = False  # shut down by abort(): unusable, even while a woken request still holds the socket
        self.versions: dict[int, int] = {}  # api key -> version we use with this broker
        self._expires_at: float | None = None  # SASL session end (KIP-368): then a new connection is opened
        try:
            # an ASCII host name as bytes: getaddrinfo then skips the "idna" codec (its import is ~2 ms of start-up)
            address = host.encode("ascii") if host.isascii() else host
            sock = socket.create_connection((address, port), timeout=timeout_s)  # type: ignore[arg-type]  # bytes ok
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as e:
            raise BrokerConnectionError(f"cannot connect to broker {host}:{port}: {e}") from None
        self._sock = self._wrap_tls(sock) if self.security.uses_tls else sock
        self._negotiate()
        if self.security.uses_sasl:
            from pystreams.runtime.group.sasl import authenticate

            try:
                lifetime_ms = authenticate(self._roundtrip_default, self.versions, self.security, f"{host}:{port}")
            except BaseException:
                self.close()
                raise
            if lifetime_ms > 0:  # Kafka's clients re-authenticate at 85-95% of it; we reconnect at 85%
                self._expires_at = time.monotonic() + 0.85 * lifetime_ms / 1000.0

    def _wrap_tls(self, sock: socket.socket) -> socket.socket:
        """The TLS handshake (security.protocol SSL / SASL_SSL); a certificate the ssl.* keys do not accept is
        an SslAuthenticationError (not retried), a lost connection a BrokerConnectionError."""
        import ssl  # here: plaintext clients do not pay its import

        assert self.security.tls is not None
        context = self.security.tls.context()
        try:
            return context.wrap_socket(sock, server_hostname=self.host)
        except ssl.SSLCertVerificationError as e:
            sock.close()
            raise SslAuthenticationError(f"TLS handshake with broker {self.host}:{self.port} failed: "
                                         f"{e.verify_message or e}; check ssl.ca.location and "
                                         f"ssl.endpoint.identification.algorithm") from None
        except ssl.SSLError as e:
            sock.close()
            raise SslAuthenticationError(f"TLS handshake with broker {self.host}:{self.port} failed: {e} (is it a "
                                         f"TLS listener? security.protocol={self.security.protocol})") from None
        except OSError as e:
            sock.close()
            raise BrokerConnectionError(f"TLS handshake with broker {self.host}:{self.port} failed: {e}") from None

    def _roundtrip_default(self, api_key: int, version: int, body: dict[str, Any]) -> dict[str, Any]:
        return self._roundtrip(api_key, version, body, self.timeout_s)

    @property
    def closed(self) -> bool:
        """True once closed or aborted, or near the end of its SASL session: the client opens a new connection
        instead of using this one."""
        return (self._sock is None or self._aborted
                or (self._expires_at is not None and time.monotonic() >= self._expires_at))

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def abort(self) -> None:
        """Wake a request blocked on this socket from another thread (it fails with BrokerConnectionError and
        closes the connection); a plain close() does not reliably wake a blocked recv on Linux."""
        self._aborted = True
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _negotiate(self) -> None:
        body = {"client_software_name": "pystreams", "client_software_version": "1"}
        answer = self._roundtrip(ApiKey.API_VERSIONS, 3, body, self.timeout_s)
        if answer["error_code"] == ErrorCode.UNSUPPORTED_VERSION:
            answer = self._roundtrip(ApiKey.API_VERSIONS, 0, {}, self.timeout_s)
        if answer["error_code"] != 0:
            self.close()
            raise BrokerConnectionError(f"ApiVersions to {self.host}:{self.port} failed with code "
                                        f"{answer['error_code']}")
        for entry in answer["api_keys"]:
            key = entry["api_key"]
            ours = SUPPORTED_VERSIONS.get(key)
            if ours is None:
                continue
            high = min(ours[1], entry["max_version"], _CAPS.get(key, ours[1]))
            if high >= max(ours[0], entry["min_version"]):
                self.versions[key] = high

    def version(self, api_key: int) -> int:
        """The version we speak for api_key with this broker (BrokerConnectionError if there is none in common)."""
        v = self.versions.get(api_key)
        if v is None:
            raise BrokerConnectionError(f"broker {self.host}:{self.port} and pystreams share no version of "
                                        f"{ApiKey(api_key).name}")
        return v

    def request(self, api_key: int, body: dict[str, Any], timeout_s: float | None = None) -> tuple[int, dict[str, Any]]:
        """(version used, decoded response body) of one request at the negotiated version."""
        version = self.version(api_key)
        return version, self._roundtrip(api_key, version, body, self.timeout_s if timeout_s is None else timeout_s)

    def _roundtrip(self, api_key: int, version: int, body: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        with self._lock:
            sock = self._sock
            if sock is None:
                raise BrokerConnectionError(f"connection to {self.host}:{self.port} is closed")
            self._correlation = (self._correlation + 1) & 0x7FFFFFFF
            correlation = self._correlation
            frame = encode_request(RequestHeader(api_key, version, correlation, self.client_id), body)
            try:
                sock.settimeout(timeout_s)
                sock.sendall(frame)
                (size,) = _SIZE.unpack(self._read(sock, 4))
                if not 4 <= size <= _MAX_FRAME:
                    raise CorruptMessageError(f"response frame size {size}")
                got, answer = decode_response(api_key, version, self._read(sock, size))
            except (OSError, CorruptMessageError) as e:  # socket.timeout is an OSError
                self.close()
                if self.security.uses_tls and _tls_alert(e):
                    # TLS 1.3: a broker that refuses our certificate says so after the handshake, on first read
                    raise SslAuthenticationError(f"broker {self.host}:{self.port} refused the TLS connection: "
                                                 f"{getattr(e, 'reason', e)} (a listener with ssl.client.auth=required needs "
                                                 f"ssl.certificate.location and ssl.key.location)") from None
                raise BrokerConnectionError(f"{ApiKey(api_key).name} to {self.host}:{self.port} failed: "
                                            f"{type(e).__name__}: {e}") from None
            if got != correlation:
                self.close()
                raise BrokerConnectionError(f"{ApiKey(api_key).name} to {self.host}:{self.port}: correlation id "
                                            f"{got}, expected {correlation}")
            return answer

    @staticmethod
    def _read(sock: socket.socket, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = sock.recv(min(n - len(buf), 1 << 20))
            if not chunk:
                raise ConnectionResetError("broker closed the connection")
            buf += chunk
        return bytes(buf)


def _tls_alert(error: BaseException) -> bool:
    """A TLS alert from the broker (e.g. it refused our certificate): not a lost connection to retry."""
    import ssl

    return isinstance(error, ssl.SSLError) and "ALERT" in str(error.reason or "")
