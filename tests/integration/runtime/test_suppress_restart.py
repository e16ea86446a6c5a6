"""A suppress() buffer survives a restart: its changelog (`<app>-<store>-changelog`, Kafka's v3 buffer format)
is replayed before processing, so a window whose updates were buffered before the restart still emits its
final result once stream time passes the window's end."""
from __future__ import annotations

from datetime import timedelta

import pytest
from confluent_kafka import Producer

from pystreams import (BufferConfig, Consumed, Materialized, Produced, Serdes, StreamsBuilder, Suppressed,
                       TimeWindows)
from pystreams.compiler.processors.windowed import suppress_changelog
from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import create_topics, read_all, unique

pytestmark = pytest.mark.integration


def _topology(source: str, sink: str):
    b = StreamsBuilder()
    (b.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .group_by_key()
        .windowed_by(TimeWindows.of_size_with_no_grace(timedelta(seconds=10)))
        .count(Materialized(name="counts"))
        .suppress(Suppressed.until_window_closes(BufferConfig.unbounded()))
        .to_stream()
        .map(lambda k, v: (f"{k.key}@{k.window.start}", v))
        .to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.Long())))
    return b.build()


def _produce(bootstrap: str, topic: str, records: list[tuple[str, int]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for key, ts in records:
        producer.produce(topic, key=key.encode(), value=b"x", timestamp=ts)
    assert producer.flush(30) == 0


def _run(config, topology, bootstrap, source, records) -> None:
    streams = KafkaStreams(topology, config)
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=60)
        _produce(bootstrap, source, records)
        deadline_records = sum(1 for _ in records)
        import time
        end = time.monotonic() + 30
        while streams.metrics()["process-total"] < deadline_records and time.monotonic() < end:
            time.sleep(0.1)
        assert streams.metrics()["process-total"] >= deadline_records
    finally:
        assert streams.close(60)


def test_buffered_updates_survive_a_restart(pystreams_broker, tmp_path):
    bootstrap = pystreams_broker.bootstrap_servers
    app_id, source, sink = unique("suppress-restart"), unique("events"), unique("finals")
    create_topics(bootstrap, 1, source, sink)
    config = {"application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
              "commit.interval.ms": 100}
    topology = _topology(source, sink)
    # window [0, 10 s): a twice, b once; stream time stays inside the window, so nothing is final yet
    _run(config, topology, bootstrap, source, [("a", 1_000), ("b", 2_000), ("a", 3_000)])
    changelog = read_all(bootstrap, f"{app_id}-KTABLE-SUPPRESS-STATE-STORE-0000000003-changelog", 2, timeout=20)
    latest = {k: v for k, v in changelog}
    assert set(latest) and all(v is not None for v in latest.values())
    assert {suppress_changelog.Decoded(v).buffer_time for v in latest.values()} == {10_000}
    assert read_all(bootstrap, sink, 1, timeout=2) == []
    # restarted (in-memory buffer gone): stream time passes the window end -> the final counts come out
    _run(config, topology, bootstrap, source, [("c", 25_000)])
    finals = {k.decode(): int.from_bytes(v, "big") for k, v in read_all(bootstrap, sink, 2, timeout=30)}
    assert finals == {"a@0": 2, "b@0": 1}
