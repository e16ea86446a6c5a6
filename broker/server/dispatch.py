"""Frame -> handler -> response buffers: the only place that knows the codec and the registry.

Why: the network layer moves bytes and the handlers compute answers; this module joins them and
applies Kafka's rules for requests we cannot serve (ApiVersions gets the v0 fallback with
UNSUPPORTED_VERSION, anything else unparseable or unsupported closes that connection only,
which is what Kafka's SocketServer does).
"""
from __future__ import annotations

import inspect
import logging
from typing import Sequence

from pystreams.broker import protocol
from pystreams.broker.server.handlers import HANDLERS, advertised_versions
from pystreams.broker.server.network import CloseConnection, KafkaConnection
from pystreams.broker.server.state import BrokerState

log = logging.getLogger("pystreams.broker.server.dispatch")

API_VERSIONS_KEY = 18
UNSUPPORTED_VERSION = 35


class RequestContext:
    """Who is asking: handlers that care (Metadata host, coordinator client_host) read it."""

    __slots__ = ("connection", "client_id", "client_host")

    def __init__(self, connection: KafkaConnection | None, client_id: str | None) -> None:
        self.connection = connection
        self.client_id = client_id or ""
        peer = connection.peer if connection is not None else "?"
        self.client_host = "/" + peer.rpartition(":")[0] if connection is not None else "/?"


class Dispatcher:
    """Turns one request frame into response buffers using `state` and the handler registry."""

    def __init__(self, state: BrokerState) -> None:
        self.state = state
        self.versions = advertised_versions()

    async def __call__(self, frame: memoryview, conn: KafkaConnection | None
                       ) -> Sequence[bytes | memoryview] | None:
        try:
            header, offset = protocol.decode_request_header(frame)
        except Exception as exc:  # CorruptMessageError, or anything a hostile frame provokes
            raise CloseConnection(f"undecodable request header: {exc}") from None
        api_key, version = header.api_key, header.api_version
        supported = self.versions.get(api_key)
        if supported is None or not supported[0] <= version <= supported[1]:
            if api_key == API_VERSIONS_KEY:
                return self._api_versions_fallback(header)
            codec = protocol.SUPPORTED_VERSIONS.get(api_key)
            if api_key not in HANDLERS and codec is not None and codec[0] <= version <= codec[1]:
                # An API Kafka has and we do not serve (e.g. UpdateFeatures): answer it with
                # UNSUPPORTED_VERSION so the client fails fast instead of waiting on a socket.
                return protocol.encode_response(header, {"error_code": UNSUPPORTED_VERSION,
                                                         "throttle_time_ms": 0})
            raise CloseConnection(f"unsupported api key {api_key} version {version}")
        try:
            request = protocol.decode_request(header, frame, offset)
        except Exception as exc:
            if api_key == API_VERSIONS_KEY:
                return self._api_versions_fallback(header)
            raise CloseConnection(f"undecodable request api {api_key} v{version}: {exc}") from None
        ctx = RequestContext(conn, header.client_id)
        result = HANDLERS[api_key](header, request, self.state, ctx)
        if inspect.isawaitable(result):
            result = await result
        if result is None:
            return None
        return protocol.encode_response(header, result)

    def _api_versions_fallback(self, header) -> list:
        """Kafka's answer to an ApiVersions version it does not know: v0, UNSUPPORTED_VERSION and
        the keys we serve, so the client retries with a version from that list."""
        keys = [{"api_key": k, "min_version": lo, "max_version": hi}
                for k, (lo, hi) in sorted(self.versions.items())]
        v0 = protocol.RequestHeader(API_VERSIONS_KEY, 0, header.correlation_id, header.client_id)
        return protocol.encode_response(v0, {"error_code": 35, "api_keys": keys})
