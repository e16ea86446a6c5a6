"""Metric VALUES of a real app: after N input records process-total == N, dropped-records-total == the records the
LogAndContinue handler skipped, commits counted with a latency, and process-rate / commit-rate are Kafka's
windowed rates (a second scrape reads the same window instead of resetting it; the value is within the bounds the
sample window allows). /metrics comes from application.server here."""
from __future__ import annotations

import math
import socket
import time
import urllib.error
import urllib.request

import pytest
from confluent_kafka import Producer

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.errors import ConfigError
from pystreams.runtime import KafkaStreams, State
from pystreams.runtime.thread_metrics import client_metrics
from tests.integration.runtime.helpers import create_topics, read_all, unique

pytestmark = pytest.mark.integration

WINDOW_S = 30.0  # Kafka's default metrics.sample.window.ms (2 samples)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _topology(source: str, sink: str):
    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.Long()))
     .map_values(lambda v: v * 2)
     .to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.Long())))
    return builder.build()


def _scrape(port: int) -> dict[str, float]:
    """name -> value summed over the threads' series of one /metrics scrape."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("kafka_") and "{" in line:
            name = line.split("{", 1)[0]
            value = float(line.rsplit(" ", 1)[1])
            out[name] = value if math.isnan(value) else out.get(name, 0.0) + value
    return out


def test_metric_values_after_n_records(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("met"), unique("nums"), unique("doubled")
    create_topics(bootstrap, 2, source, sink)
    good, bad = 500, 7
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i in range(good):
        producer.produce(source, key=f"k{i}".encode(), value=i.to_bytes(8, "big", signed=True))
    for i in range(bad):  # 3 bytes are no Long: LogAndContinue drops them
        producer.produce(source, key=f"bad{i}".encode(), value=b"\x01\x02\x03")
    assert producer.flush(30) == 0
    port = _free_port()
    app = KafkaStreams(_topology(source, sink), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
        "commit.interval.ms": 100, "application.server": f"127.0.0.1:{port}",
        "deserialization.exception.handler": "org.apache.kafka.streams.errors.LogAndContinueExceptionHandler"})
    started = time.monotonic()
    try:
        app.start()
        assert len(read_all(bootstrap, sink, good, timeout=60)) == good
        deadline = time.monotonic() + 30
        while True:  # the last commit may still be on its way
            m = client_metrics(app)
            if m["process-total"] == good and m["dropped-records-total"] == bad and m["commit-total"] >= 1:
                break
            assert time.monotonic() < deadline, m
            time.sleep(0.1)
        assert app.state is State.RUNNING
        first = _scrape(port)
        time.sleep(0.3)
        second = _scrape(port)
        elapsed = time.monotonic() - started
        assert elapsed < WINDOW_S, "the bounds below assume the run fits in one sample window"
        assert first["kafka_streams_stream_thread_process_total"] == good == second[
            "kafka_streams_stream_thread_process_total"]
        assert first["kafka_streams_stream_task_dropped_records_total"] == bad
        # Kafka's Rate: the records over the time since the first sample, padded to one full window (2 samples)
        for scrape in (first, second):  # the second scrape is not reset by the first
            assert good / (elapsed + WINDOW_S) <= scrape["kafka_streams_stream_thread_process_rate"] <= good / WINDOW_S
            assert scrape["kafka_streams_stream_thread_commit_rate"] > 0
            assert scrape["kafka_streams_stream_task_dropped_records_rate"] == pytest.approx(bad / WINDOW_S, rel=0.5)
        assert second["kafka_streams_stream_thread_process_rate"] == pytest.approx(
            first["kafka_streams_stream_thread_process_rate"], rel=0.05)
        latency_avg = first["kafka_streams_stream_thread_process_latency_avg"]
        latency_max = first["kafka_streams_stream_thread_process_latency_max"]
        assert 0 < latency_avg <= latency_max < 1000  # ms per record of a processing pass
        commit_avg = first["kafka_streams_stream_thread_commit_latency_avg"]
        assert 0 < commit_avg <= first["kafka_streams_stream_thread_commit_latency_max"]
        m = client_metrics(app)
        assert m["process-total"] == good and m["dropped-records-total"] == bad
        assert m["commit-total"] >= first["kafka_streams_stream_thread_commit_total"] >= 1  # a counter: only grows
    finally:
        assert app.close(60)


def test_metrics_port_without_application_server_and_a_sliding_window(kafka_broker, tmp_path):
    """metrics.http.port serves /metrics (and nothing else) with no application.server; with a 1 s x 2 sample
    window the rate falls back to 0 once nothing was processed for two windows, while the total stays."""
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("metp"), unique("nums"), unique("doubled")
    create_topics(bootstrap, 1, source, sink)
    n = 200
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i in range(n):
        producer.produce(source, key=f"k{i}".encode(), value=i.to_bytes(8, "big", signed=True))
    assert producer.flush(30) == 0
    port = _free_port()
    app = KafkaStreams(_topology(source, sink), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
        "commit.interval.ms": 100, "metrics.http.port": port, "metrics.http.host": "127.0.0.1",
        "metrics.sample.window.ms": 1000, "metrics.num.samples": 2})
    try:
        app.start()
        assert len(read_all(bootstrap, sink, n, timeout=60)) == n
        deadline = time.monotonic() + 30
        while _scrape(port).get("kafka_streams_stream_thread_process_total") != n:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert app.metrics()["process-total"] == n
        with pytest.raises(urllib.error.HTTPError) as err:  # queries live on application.server only
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/stores/x?key=%22a%22", timeout=10)
        assert err.value.code == 404
        time.sleep(2.2)  # two 1 s windows with nothing to process
        idle = _scrape(port)
        assert idle["kafka_streams_stream_thread_process_total"] == n
        assert idle["kafka_streams_stream_thread_process_rate"] == 0.0
        assert math.isnan(idle["kafka_streams_stream_thread_process_latency_max"])  # nothing in the window
    finally:
        assert app.close(60)
    with pytest.raises(OSError):  # closed with the client
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_a_busy_metrics_port_fails_start_clearly(pystreams_broker, tmp_path):
    bootstrap = pystreams_broker.bootstrap_servers
    source, sink = unique("nums"), unique("doubled")
    create_topics(bootstrap, 1, source, sink)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        app = KafkaStreams(_topology(source, sink), {
            "application.id": unique("metbusy"), "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
            "metrics.http.port": port, "metrics.http.host": "127.0.0.1"})
        try:
            with pytest.raises(ConfigError, match="metrics.http.port"):
                app.start()
        finally:
            app.close(30)
        assert app.state in (State.ERROR, State.NOT_RUNNING)
