"""The instance's HTTP endpoints: on application.server remote interactive queries and Prometheus `/metrics`;
on metrics.http.port only `/metrics` (Kafka Streams has no HTTP server of its own: this is pystreams' key).

GET /v1/raw/<store>?type=...&key=<base64url>  -> typed remote queries (remote_queries.py): serialized bytes
GET /v1/stores/<store>?key=<key as JSON>  -> {"store", "key", "value", "host"} for plain JSON clients (curl):
    JSON keys (str/int/...), values as JSON (json_default: Records as their fields, ISO datetimes, Decimal text,
    base64url bytes)
GET /v1/stores/<store>?key=<JSON>&from=<ms>&to=<ms>  (a window store) -> {"store", "key", "windows": [[start,
    value], ...], "host"}: the key's windows starting in [from, to], oldest first (plain values)
GET /metrics                               -> Kafka Streams metrics in the Prometheus text format
Errors of both query paths: {"error", "code"} with 404 UNKNOWN_STORE, 400 WRONG_STORE_TYPE / BAD_REQUEST, 503
UNAVAILABLE + Retry-After (not running, rebalancing, the key's partition not held here). The application.server
endpoint binds to the advertised host (pystreams.iq.http.host to bind elsewhere) and is not served at all with
pystreams.iq.http.enabled=false (Kafka's application.server only advertises).
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
RETRY_AFTER_S = "1"  # seconds, the Retry-After of a 503 (a rebalance usually settles within a few seconds)


class QueryServer:
    """A small threaded HTTP server on host:port (application.server's port, bound to its host by default)."""

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

        self.httpd = ThreadingHTTPServer((host, port), Handler)
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
            status, body = plain_answer(self.streams, urllib.parse.unquote(parts[2]),
                                        urllib.parse.parse_qs(url.query))
            self._json(request, status, body)
            return
        self._json(request, 404, {"error": f"unknown path {url.path}: use /v1/stores/<store>?key=... or /metrics"})

    def _json(self, request: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        self._reply(request, status, json.dumps(body, default=json_default).encode(), "application/json")

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
        request.send_response(status)
        if status == 503:  # retryable: not running, rebalancing, partition moved
            request.send_header("Retry-After", RETRY_AFTER_S)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


def plain_answer(streams: Any, store: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of GET /v1/stores/<store>?key=<JSON>[&from&to][&stale=true][&partition=n].
    Status codes as /v1/raw: 404 unknown store, 400 wrong store type / bad key / bad request, 503 (with
    Retry-After) not running, rebalancing, or the key's partition not held here (moved: ask again or ask the
    owner): an absent key is 200 null only when this instance holds the key's partition."""
    from pystreams.runtime.queries import (
        InvalidStateStoreError,
        StoreTypeMismatchError,
        UnknownStateStoreError,
    )

    try:
        raw = query.get("key")
        if not raw:
            raise ValueError("pass the key as JSON: ?key=%22word%22")
        try:
            key = json.loads(raw[0])
        except json.JSONDecodeError as e:
            raise ValueError(f"key is not JSON: {raw[0]!r}") from e
        if key is None:
            raise ValueError("key is null: a null key has no partition and is never stored")
        params = _params(store, query)
        window = "from" in query or "to" in query
        if window:
            from pystreams.runtime.window_queries import WINDOW_STORE

            time_from, time_to = int(query.get("from", ["0"])[0]), int(query.get("to", [str(2**63 - 1)])[0])
            view = streams.store(replace(params, query_type=WINDOW_STORE))
        else:
            view = streams.store(params)
        partition = _key_partition(streams, store, key, params)  # also a 400 for a key the store's serde refuses
        if window:
            found: Any = [[start, value] for start, value in view.fetch(key, time_from, time_to)]
        else:
            found = view.get(key)
        if (found is None or found == []) and partition is not None:
            _check_partition_here(streams, store, partition, params.stale_stores)
        host = streams.config.application_server
        if window:
            return 200, {"store": store, "key": key, "windows": found, "host": host}
        return 200, {"store": store, "key": key, "value": found, "host": host}
    except UnknownStateStoreError as e:
        return 404, {"error": str(e), "code": "UNKNOWN_STORE"}
    except StoreTypeMismatchError as e:
        return 400, {"error": str(e), "code": "WRONG_STORE_TYPE"}
    except InvalidStateStoreError as e:
        return 503, {"error": str(e), "code": "UNAVAILABLE"}
    except (ValueError, PystreamsError) as e:  # KeySerializationError, a bad from/to/partition, ...
        return 400, {"error": f"bad query (key as JSON, from/to as integer ms): {e}", "code": "BAD_REQUEST"}


def _key_partition(streams: Any, store: str, key: Any, params: Any) -> int | None:
    """The key's partition: &partition=n, else murmur2 of the key as the store's key serde writes it (a
    KeySerializationError for a key it cannot take); None for a global store (every instance holds all of it)."""
    from pystreams.runtime.queries import key_metadata, serialize_key
    from pystreams.runtime.remote_queries import store_serdes

    ks, _vs, topic = store_serdes(streams, store)
    serialize_key(ks, topic, key)
    if store in streams.topology.global_store_names():
        return None
    return params.partition if params.partition is not None else key_metadata(streams, store, key, ks).partition


def _check_partition_here(streams: Any, store: str, partition: int, stale: bool) -> None:
    """Nothing found for the key: InvalidStateStoreError (503) unless this instance holds the key's partition, so a
    moved partition is never a wrong null."""
    from pystreams.runtime.queries import InvalidStateStoreError, live_stores

    if not live_stores(streams, store, stale, partition):
        raise InvalidStateStoreError(f"this instance does not hold partition {partition} of store {store} (it "
                                     "moved, or a rebalance is under way): ask the instance "
                                     "query_metadata_for_key names, or retry")


def _params(store: str, query: dict[str, list[str]]) -> Any:
    """The StoreQueryParameters of a plain JSON query: &stale=true also reads standby and restoring copies,
    &partition=n only that partition (Kafka's withPartition)."""
    from pystreams.runtime.queries import StoreQueryParameters

    params = StoreQueryParameters.from_name_and_type(store)
    if "partition" in query:
        params = params.with_partition(int(query["partition"][0]))
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


#: pystreams' keys for the application.server endpoint (Kafka's application.server only advertises; the app serves
#: its own REST layer): switch the endpoint off, or bind it elsewhere than the advertised host.
IQ_HTTP_ENABLED = "pystreams.iq.http.enabled"
IQ_HTTP_HOST = "pystreams.iq.http.host"


def iq_http_enabled(config: Any) -> bool:
    """pystreams.iq.http.enabled: true (default) or false, as a bool or its text; anything else is a ConfigError."""
    value = config.get(IQ_HTTP_ENABLED)
    if value is None or value is True or str(value).strip().lower() == "true":
        return True
    if value is False or str(value).strip().lower() == "false":
        return False
    raise ConfigError(f"{IQ_HTTP_ENABLED} must be true or false, got {value!r}")


def iq_http_bind(config: Any, advertised_host: str) -> str:
    """Where the application.server endpoint listens: pystreams.iq.http.host (e.g. 0.0.0.0 behind NAT or in a
    container), else the advertised host itself, so an instance is not reachable on interfaces it did not name."""
    value = config.get(IQ_HTTP_HOST)
    return advertised_host if value is None or not str(value).strip() else str(value).strip()


def start_http_server(streams: Any) -> HttpServers | None:
    """KafkaStreams.start(): the application.server endpoint (interactive queries and /metrics, bound to
    pystreams.iq.http.host, default the advertised host; none with pystreams.iq.http.enabled=false) and/or a
    metrics-only endpoint on metrics.http.port (bound to metrics.http.host, default all interfaces); None when
    neither is served. The same port for both keys: one server."""
    from pystreams.runtime.queries import HostInfo

    config = streams.config
    servers: list[QueryServer] = []
    app_server = HostInfo.parse(config.application_server) if config.application_server else None
    if app_server is not None and not iq_http_enabled(config):
        app_server = None  # advertised in the assignment metadata only, as in Kafka
    port = metrics_port(config)
    try:
        if app_server is not None:
            servers.append(QueryServer(streams, iq_http_bind(config, app_server.host), app_server.port))
        if port is not None and (app_server is None or port != app_server.port):
            host = str(config.get("metrics.http.host") or "0.0.0.0")
            servers.append(QueryServer(streams, host, port, queries=False))
            log.info("stream-client [%s] Prometheus /metrics on %s:%d (metrics.http.port)", streams.client_id,
                     host, servers[-1].port)
    except OSError as e:
        for server in servers:
            server.httpd.server_close()
        raise ConfigError(f"cannot serve HTTP on the configured host/port ({e}): application.server and "
                          f"metrics.http.port need a free port each, and application.server's host must be an "
                          f"address of this machine unless {IQ_HTTP_HOST} says where to bind (or "
                          f"{IQ_HTTP_ENABLED}=false: advertise only)") from e
    for server in servers:
        server.start()
    return HttpServers(servers) if servers else None
