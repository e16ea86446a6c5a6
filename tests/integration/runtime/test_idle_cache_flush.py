"""The record cache is flushed when the stream thread's input runs dry (pystreams.cache.flush.when.idle, ADR 0006), on
both brokers: with commit.interval.ms at 60 s a count's results are readable within seconds under at_least_once and
the group's offsets are not committed by it; with the key false, or under exactly_once_v2 (read_committed), nothing
is readable before a commit, and the commit on close shows the same results."""
from __future__ import annotations

import struct
import time
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import create_topics, unique

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

KEYS = ["a", "b", "c"]
INPUT = [KEYS[i % 3] for i in range(30)] + ["a"]  # a: 11, b: 10, c: 10
EXPECTED = {"a": 11, "b": 10, "c": 10}


def _app(bootstrap: str, tmp: Any, **props: Any) -> tuple[KafkaStreams, str, str, str]:
    app_id, source, sink = unique("idle-flush"), unique("in"), unique("out")
    create_topics(bootstrap, 1, source, sink)
    s = Serdes.String()
    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=s, value_serde=s)).group_by_key(Grouped(key_serde=s, value_serde=s))
        .count(Materialized(name="counts")).to_stream().to(sink, Produced(key_serde=s, value_serde=Serdes.Long())))
    app = KafkaStreams(builder.build(), {"application.id": app_id, "bootstrap.servers": bootstrap,
                                         "state.dir": str(tmp / "s"), "commit.interval.ms": 60_000, **props})
    return app, app_id, source, sink


def _start_and_feed(app: KafkaStreams, bootstrap: str, source: str) -> None:
    """Start, wait for the task to run, produce INPUT, wait until every record was processed."""
    from confluent_kafka import Producer

    app.start()
    deadline = time.monotonic() + 60
    while not (app.state is State.RUNNING and sum(len(t.tasks) for t in app.threads) == 1):
        assert time.monotonic() < deadline, f"never ran its task: {app.state}"
        time.sleep(0.05)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for key in INPUT:
        producer.produce(source, key=key.encode(), value=b"x")
    assert producer.flush(30) == 0
    while sum(t.metrics.processed for t in app.threads) < len(INPUT):
        assert time.monotonic() < deadline, "the input was never processed"
        time.sleep(0.02)


def _reader(bootstrap: str, sink: str, isolation: str = "read_uncommitted") -> Consumer:
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"), "enable.auto.commit": False,
                       "fetch.wait.max.ms": 10, "isolation.level": isolation})
    reader.assign([TopicPartition(sink, 0, 0)])
    return reader


def _latest(reader: Consumer, counts: dict[str, int], until: float, want: dict[str, int] | None) -> dict[str, int]:
    """Read the sink into counts (latest value per key) until `want` is reached or the deadline passed."""
    while time.monotonic() < until and counts != want:
        for m in reader.consume(100, 0.05):
            if m.error() is None:
                counts[m.key().decode()] = struct.unpack(">q", m.value())[0]
    return counts


def _committed(bootstrap: str, app_id: str, source: str) -> int:
    group = Consumer({"bootstrap.servers": bootstrap, "group.id": app_id, "enable.auto.commit": False})
    try:
        return group.committed([TopicPartition(source, 0)], 30)[0].offset
    finally:
        group.close()


def test_results_readable_when_caught_up_without_committing_offsets(kafka_broker, tmp_path) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    app, app_id, source, sink = _app(bootstrap, tmp_path)
    reader = _reader(bootstrap, sink)
    try:
        _start_and_feed(app, bootstrap, source)
        processed = time.monotonic()
        counts = _latest(reader, {}, processed + 10, EXPECTED)
        took = time.monotonic() - processed
        assert counts == EXPECTED, f"results not readable {took:.1f} s after processing (commit.interval.ms 60 s)"
        assert took < 5, f"results took {took:.1f} s"
        assert _committed(bootstrap, app_id, source) < 0  # the idle flush committed no offset (none yet)
        app.close(30)
        assert _committed(bootstrap, app_id, source) == len(INPUT)  # the close commits, as before
    finally:
        app.close(30)
        reader.close()


@pytest.mark.parametrize("props", [{"pystreams.cache.flush.when.idle": "false"},
                                   {"processing.guarantee": "exactly_once_v2"}], ids=["key-false", "eos"])
def test_no_results_before_a_commit(kafka_broker, tmp_path, props: dict[str, Any]) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    app, _app_id, source, sink = _app(bootstrap, tmp_path, **props)
    reader = _reader(bootstrap, sink, "read_committed")
    try:
        _start_and_feed(app, bootstrap, source)
        early = _latest(reader, {}, time.monotonic() + 2.0, None)  # the idle flush would show them in < 0.5 s
        assert early == {}, f"results before any commit: {early}"
        app.close(30)  # commits: the caches are flushed and (under EOS) the transaction committed
        assert _latest(reader, {}, time.monotonic() + 15, EXPECTED) == EXPECTED
    finally:
        app.close(30)
        reader.close()
