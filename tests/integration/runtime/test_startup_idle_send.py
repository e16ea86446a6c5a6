"""An idle stream thread does not leave its output waiting out linger.ms (streams_producer.send_lingering), on both
brokers: with linger.ms at 3 s, a record given to a running app reaches the output topic well within a second, as
does the last record of a burst; before, each waited the full linger (the end of every 100k benchmark run and the
stateless latency at low rates paid Kafka Streams' default 100 ms)."""
from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import create_topics, unique

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

LINGER_MS = 3000


def _read(consumer: Consumer, want: int, timeout: float) -> tuple[list[bytes], float]:
    """Values read until `want` arrived (or the timeout), and when the last one was read (time.monotonic())."""
    got: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        got += [m.value() for m in consumer.consume(100, 0.01) if m.error() is None]
    return got, time.monotonic()


def test_output_goes_out_when_the_input_runs_dry_not_after_linger_ms(kafka_broker, tmp_path) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("idle-send"), unique("in"), unique("out")
    create_topics(bootstrap, 1, source, sink)
    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .map_values(str.upper).to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    app = KafkaStreams(builder.build(), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path / "s"),
        "linger.ms": LINGER_MS, "commit.interval.ms": 60_000})  # no commit flushes the producer meanwhile
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"), "enable.auto.commit": False,
                       "fetch.wait.max.ms": 10})
    reader.assign([TopicPartition(sink, 0, 0)])
    try:
        app.start()
        deadline = time.monotonic() + 60
        while not (app.state is State.RUNNING and sum(len(t.tasks) for t in app.threads) == 1):
            assert time.monotonic() < deadline, f"never ran its task: {app.state}"
            time.sleep(0.05)
        for i, expected in ((1, 1), (2, 1000)):  # one record, then a burst
            for n in range(expected):
                producer.produce(source, key=b"k", value=f"r{i}-{n}".encode())
            assert producer.flush(30) == 0
            sent = time.monotonic()
            got, at = _read(reader, expected, 30)
            assert len(got) == expected and got[-1] == f"R{i}-{expected - 1}".encode()
            # the thread processes within a poll; without the idle send the output waited linger.ms (3 s)
            assert at - sent < 1.5, f"{expected} record(s) took {at - sent:.2f} s: they waited out linger.ms"
    finally:
        app.close(30)
        reader.close()
