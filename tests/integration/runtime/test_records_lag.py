"""records-lag on a running app, on both brokers: > 0 while the stream thread is behind its input, 0 once it has
caught up; the same value in KafkaStreams.metrics() and on /metrics, which only reads what the thread refreshed."""
from __future__ import annotations

import socket
import threading
import time
import urllib.request

import pytest

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import create_topics, produce_lines, unique

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scraped_lag(server: str) -> float:
    text = urllib.request.urlopen(f"http://{server}/metrics", timeout=10).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("kafka_consumer_records_lag{"))


def _wait(condition, what, timeout: float = 60) -> None:
    """Poll condition until true; `what` (a string, or a callable for a message built at failure) explains."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what() if callable(what) else what
        time.sleep(0.1)


def test_records_lag_is_positive_while_behind_and_zero_when_caught_up(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("lag"), unique("in"), unique("out")
    create_topics(bootstrap, 1, source, sink)
    slow = threading.Event()

    def gate(value: str) -> str:
        if slow.is_set():
            time.sleep(0.005)  # ~200 records/s: the input stays ahead for seconds
        return value

    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .map_values(gate).to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    server = f"127.0.0.1:{_free_port()}"
    app = KafkaStreams(builder.build(), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path / "s"),
        "commit.interval.ms": 100, "max.poll.records": 20, "application.server": server,
        "consumer.session.timeout.ms": 10000})
    try:
        app.start()
        _wait(lambda: app.state is State.RUNNING and sum(len(t.tasks) for t in app.threads) == 1,
              f"never ran its task: {app.state}")
        produce_lines(bootstrap, source, [f"warm {i}" for i in range(50)])
        _wait(lambda: app.metrics()["process-total"] >= 50, "the first records were never processed")
        _wait(lambda: app.metrics()["records-lag"] == 0, "records-lag never reached 0 after the first records")
        slow.set()
        produce_lines(bootstrap, source, [f"line {i}" for i in range(3000)], 50)
        behind = []
        _wait(lambda: behind.append(app.metrics()["records-lag"]) or behind[-1] > 0,
              lambda: f"records-lag never showed the input ahead: {behind[-5:]}", timeout=30)
        assert behind[-1] <= 3000
        scraped = []
        _wait(lambda: scraped.append(_scraped_lag(server)) or scraped[-1] > 0,
              lambda: f"/metrics never showed records-lag > 0: {scraped[-5:]}", timeout=30)
        assert app.metrics()["process-total"] < 3050  # still behind while it was seen
        slow.clear()
        _wait(lambda: app.metrics()["process-total"] >= 3050, "the input was never processed", timeout=60)
        _wait(lambda: app.metrics()["records-lag"] == 0, "records-lag never went back to 0", timeout=30)
        _wait(lambda: _scraped_lag(server) == 0, "/metrics never showed records-lag 0", timeout=30)
    finally:
        app.close(60)
