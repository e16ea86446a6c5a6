"""The instance's HTTP endpoint on application.server: remote interactive queries and Prometheus `/metrics`.

GET /v1/stores/<store>?key=<key as JSON>  -> {"store", "key", "value", "host"} (values as JSON; other types as str)
GET /v1/stores/<store>?key=<JSON>&from=<ms>&to=<ms>  (a window store) -> {"store", "key", "windows": [[start,
    value], ...], "host"}: the key's windows starting in [from, to], oldest first (plain values)
GET /metrics                               -> Kafka Streams metrics in the Prometheus text format
"""
from __future__ import annotations

import json
import logging
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from pystreams.errors import PystreamsError

log = logging.getLogger("pystreams.runtime")


class StreamsCollector:
    """Kafka Streams' metric names (stream-thread-metrics / consumer lag / restore) for Prometheus."""

    def __init__(self, streams: Any) -> None:
        self.streams = streams
        self._last: dict[str, tuple[float, int, int]] = {}

    def collect(self) -> Any:
        labels = ["client_id", "thread_id"]
        process_total = CounterMetricFamily("kafka_streams_stream_thread_process", "records processed (process-total)",
                                            labels=labels)
        process_rate = GaugeMetricFamily("kafka_streams_stream_thread_process_rate",
                                         "records processed per second since the last scrape (process-rate)",
                                         labels=labels)
        latency_avg = GaugeMetricFamily("kafka_streams_stream_thread_process_latency_avg",
                                        "average ms per record processed (process-latency-avg)", labels=labels)
        latency_max = GaugeMetricFamily("kafka_streams_stream_thread_process_latency_max",
                                        "max ms per record of a batch (process-latency-max)", labels=labels)
        commit_total = CounterMetricFamily("kafka_streams_stream_thread_commit", "commits (commit-total)",
                                           labels=labels)
        commit_rate = GaugeMetricFamily("kafka_streams_stream_thread_commit_rate", "commits per second (commit-rate)",
                                        labels=labels)
        commit_latency = GaugeMetricFamily("kafka_streams_stream_thread_commit_latency_avg",
                                           "ms of the last commit (commit-latency-avg)", labels=labels)
        lag = GaugeMetricFamily("kafka_consumer_records_lag", "records behind the end of the input (records-lag)",
                                labels=labels)
        restored = CounterMetricFamily("kafka_streams_state_restore", "changelog records restored (restore-total)",
                                       labels=labels)
        restore_rate = GaugeMetricFamily("kafka_streams_state_restore_rate", "changelog records restored per second "
                                         "while restoring (restore-rate)", labels=labels)
        tasks = GaugeMetricFamily("kafka_streams_active_tasks", "active tasks", labels=labels)
        client = self.streams.client_id
        now = time.monotonic()
        for t in list(self.streams.threads):
            m = t.metrics
            key = [client, t.name]
            prev_t, prev_p, prev_c = self._last.get(t.name, (m.started, 0, 0))
            elapsed = max(now - prev_t, 1e-6)
            self._last[t.name] = (now, m.processed, m.commits)
            process_total.add_metric(key, m.processed)
            process_rate.add_metric(key, (m.processed - prev_p) / elapsed)
            latency_avg.add_metric(key, m.process_ms / m.processed if m.processed else 0.0)
            latency_max.add_metric(key, m.process_latency_max_ms)
            commit_total.add_metric(key, m.commits)
            commit_rate.add_metric(key, (m.commits - prev_c) / elapsed)
            commit_latency.add_metric(key, m.last_commit_ms)
            lag.add_metric(key, m.lag if t.is_alive() else 0)  # refreshed by the stream thread: no consumer call here
            restored.add_metric(key, m.restored)
            restore_rate.add_metric(key, m.restore_rate)
            tasks.add_metric(key, len(t.tasks))
        yield from (process_total, process_rate, latency_avg, latency_max, commit_total, commit_rate, commit_latency,
                    lag, restored, restore_rate, tasks)


class QueryServer:
    """A small threaded HTTP server bound to application.server's port."""

    def __init__(self, streams: Any, host: str, port: int) -> None:
        self.streams = streams
        self.registry = CollectorRegistry()
        self.registry.register(StreamsCollector(streams))  # type: ignore[arg-type]
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                outer.handle(self)

        bind = "0.0.0.0" if host not in ("127.0.0.1", "localhost") else host
        self.httpd = ThreadingHTTPServer((bind, port), Handler)
        self.httpd.daemon_threads = True
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
        parts = url.path.strip("/").split("/")
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
                value = self.streams.store(store).get(key)
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
        return [[start, value] for start, value in self.streams.store(store, WINDOW_STORE).fetch(key, time_from,
                                                                                                   time_to)]

    def _json(self, request: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        self._reply(request, status, json.dumps(body, default=str).encode(), "application/json")

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)
