"""The instance's HTTP endpoints: on application.server remote interactive queries and Prometheus `/metrics`;
on metrics.http.port only `/metrics` (Kafka Streams has no HTTP server of its own: this is pystreams' key).

GET /v1/raw/<store>?type=...&key=<base64url>  -> typed remote queries (remote_queries.py): serialized bytes
GET /v1/stores/<store>?key=<key as JSON>  -> {"store", "key", "value", "host"} for plain JSON clients (curl):
    JSON keys (str/int/...), values as JSON (json_default: Records as their fields, ISO datetimes, Decimal text,
    base64url bytes)
GET /v1/stores/<store>?key=<JSON>&from=<ms>&to=<ms>  (a window store) -> {"store", "key", "windows": [[start,
    value], ...], "host"}: the key's windows starting in [from, to], oldest first (plain values)
GET /metrics                               -> Kafka Streams metrics in the Prometheus text format
"""
from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

from pystreams.errors import ConfigError, PystreamsError
from pystreams.runtime.metrics_exporter import StreamsCollector  # re-exported
from pystreams.serdes.windowed import Windowed
from pystreams.state.api import ValueAndTimestamp

log = logging.getLogger("pystreams.runtime")


class QueryServer:
    """A small threaded HTTP server bound to application.server's port."""

    def __init__(self, streams: Any, host: str, port: int, queries: bool = True) -> None:
        self.streams = streams
        self.queries = queries  # False: a metrics.http.port server, only /metrics
        self.registry = CollectorRegistry()
        self.registry.register(StreamsCollector(streams))  # type: ignore[arg-type]
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer.handle(self)

        bind = "0.0.0.0" if host not in ("127.0.0.1", "localhost") else host
        self.httpd = ThreadingHTTPServer((bind, port), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])  # the bound port (metrics.http.port 0: an ephemeral one)
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True, name="pystreams-http")

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlparse(request.path)
        if url.path == "/metrics":
            self._reply(request, 200, generate_latest(self.registry), "text/plain; version=0.0.4")
            return
        if not self.queries:
            self._json(request, 404, {"error": f"unknown path {url.path}: this port (metrics.http.port) serves "
                                               "/metrics only; interactive queries are on application.server"})
            return
        parts = url.path.strip("/").split("/")
        if len(parts) == 3 and parts[:2] == ["v1", "raw"]:
            from pystreams.runtime.remote_queries import raw_answer

            status, body = raw_answer(self.streams, urllib.parse.unquote(parts[2]), urllib.parse.parse_qs(url.query))
            self._json(request, status, body)
            return
        if len(parts) == 3 and parts[:2] == ["v1", "stores"]:
            store = urllib.parse.unquote(parts[2])
            raw = urllib.parse.parse_qs(url.query).get("key")
            if not raw:
                self._json(request, 400, {"error": "pass the key as JSON: ?key=%22word%22"})
                return
            query = urllib.parse.parse_qs(url.query)
            try:
                key = json.loads(raw[0])
                if "from" in query or "to" in query:
                    windows = self._window_fetch(store, key, query)
                    self._json(request, 200, {"store": store, "key": key, "windows": windows,
                                              "host": self.streams.config.application_server})
                    return
                value = self.streams.store(_params(store, query)).get(key)
            except json.JSONDecodeError:
                self._json(request, 400, {"error": f"key is not JSON: {raw[0]!r}"})
                return
            except ValueError as e:
                self._json(request, 400, {"error": f"bad query (key as JSON, from/to as integer ms): {e}"})
                return
            except PystreamsError as e:
                self._json(request, 404, {"error": str(e)})
                return
            self._json(request, 200, {"store": store, "key": key, "value": value,
                                      "host": self.streams.config.application_server})
            return
        self._json(request, 404, {"error": f"unknown path {url.path}: use /v1/stores/<store>?key=... or /metrics"})

    def _window_fetch(self, store: str, key: Any, query: dict[str, list[str]]) -> list[list[Any]]:
        from pystreams.runtime.window_queries import WINDOW_STORE

        time_from, time_to = int(query.get("from", ["0"])[0]), int(query.get("to", [str(2**63 - 1)])[0])
        view = self.streams.store(replace(_params(store, query), query_type=WINDOW_STORE))
        return [[start, value] for start, value in view.fetch(key, time_from, time_to)]

    def _json(self, request: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        self._reply(request, status, json.dumps(body, default=json_default).encode(), "application/json")

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


def _params(store: str, query: dict[str, list[str]]) -> Any:
    """The StoreQueryParameters of a plain JSON query: &stale=true also reads standby and restoring copies."""
    from pystreams.runtime.queries import StoreQueryParameters

    params = StoreQueryParameters.from_name_and_type(store)
    return params.enable_stale_stores() if query.get("stale", ["false"])[0] == "true" else params


def json_default(value: Any) -> Any:
    """How the plain JSON endpoint shows non-JSON values (the typed /v1/raw path keeps them exact): a Record
    model as its fields, datetime/date as ISO 8601, Decimal as its exact text, bytes as base64url, a
    ValueAndTimestamp / Windowed as an object, sets as lists; anything else as str()."""
    import base64
    import datetime as dt
    from decimal import Decimal

    asdict = getattr(value, "asdict", None)
    if callable(asdict) and getattr(value, "_pystreams_record_", False):
        return asdict()
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.urlsafe_b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, Windowed):
        return {"key": value.key, "start": value.window.start, "end": value.window.end}
    if isinstance(value, ValueAndTimestamp):
        return {"value": value.value, "timestamp": value.timestamp}
    return str(value)


class HttpServers:
    """The servers start_http_server started, closed together (KafkaStreams.close())."""

    def __init__(self, servers: list[QueryServer]) -> None:
        self.servers = servers

    @property
    def metrics_port(self) -> int:
        """The port /metrics is served on by the metrics.http.port server (else application.server's)."""
        return next((s.port for s in self.servers if not s.queries), self.servers[0].port)

    def close(self) -> None:
        for server in self.servers:
            server.close()


def metrics_port(config: Any) -> int | None:
    """metrics.http.port: None when unset (no metrics-only server), else 0..65535 (0: any free port)."""
    value = config.get("metrics.http.port")
    if value is None or str(value).strip() in ("", "-1"):
        return None
    try:
        port = int(str(value).strip())
    except ValueError:
        port = -2
    if not 0 <= port <= 65535:
        raise ConfigError(f"metrics.http.port must be a port number 0-65535 (0: any free one), got {value!r}")
    return port


def start_http_server(streams: Any) -> HttpServers | None:
    """KafkaStreams.start(): the application.server endpoint (interactive queries and /metrics) and/or a
    metrics-only endpoint on metrics.http.port (bound to metrics.http.host, default all interfaces); None when
    neither key is set. The same port for both keys: one server."""
    from pystreams.runtime.queries import HostInfo

    config = streams.config
    servers: list[QueryServer] = []
    app_server = HostInfo.parse(config.application_server) if config.application_server else None
    port = metrics_port(config)
    try:
        if app_server is not None:
            servers.append(QueryServer(streams, app_server.host, app_server.port))
        if port is not None and (app_server is None or port != app_server.port):
            host = str(config.get("metrics.http.host") or "0.0.0.0")
            servers.append(QueryServer(streams, host, port, queries=False))
            log.info("stream-client [%s] Prometheus /metrics on %s:%d (metrics.http.port)", streams.client_id,
                     host, servers[-1].port)
    except OSError as e:
        for server in servers:
            server.httpd.server_close()
        raise ConfigError(f"cannot serve HTTP on the configured port ({e}): application.server and "
                          "metrics.http.port need a free port each") from e
    for server in servers:
        server.start()
    return HttpServers(servers) if servers else None
