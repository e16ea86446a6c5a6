"""An output topic grows while the application runs, on both brokers: Kafka's producer reads its topics' metadata
again every metadata.max.age.ms, so a StreamPartitioner is given the new partition count and records land on the
new partitions (KafkaRecordCollector.partitions_for, refreshed from the poll loop); records placed by the
producer's own (murmur2) partitioner go there too (librdkafka re-reads its metadata after metadata.max.age.ms)."""
from __future__ import annotations

import time
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewPartitions

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import create_topics, unique

pytestmark = pytest.mark.integration

STRINGS = {"key_serde": Serdes.String(), "value_serde": Serdes.String()}


def _by_value(topic: str, key: Any, value: str, partitions: int) -> int:
    """Record i goes to partition i % (the sink's partition count as the producer knows it)."""
    return int(value) % partitions


def _topology(source: str, sink: str, keyed_sink: str) -> Any:
    builder = StreamsBuilder()
    stream = builder.stream(source, Consumed(**STRINGS))
    stream.to(sink, Produced(**STRINGS, partitioner=_by_value))
    stream.to(keyed_sink, Produced(**STRINGS))
    return builder.build()


def _produce(bootstrap: str, topic: str, values: range) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in values:
        producer.produce(topic, key=f"k{i}", value=str(i), partition=0)
    assert producer.flush(30) == 0


def _read(bootstrap: str, topic: str, expected: int) -> dict[int, int]:
    """value -> partition of the first `expected` records of topic."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "topic.metadata.refresh.interval.ms": 500})
    consumer.subscribe([topic])
    out: dict[int, int] = {}
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline and len(out) < expected:
            for m in consumer.consume(100, 0.3):
                if m.error() is None:
                    out[int(m.value().decode())] = m.partition()
    finally:
        consumer.close()
    return out


def test_records_land_on_a_grown_output_topics_new_partitions(kafka_broker: Any, tmp_path: Any) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    source, sink, keyed = unique("grow-sink-in"), unique("grow-sink-out"), unique("grow-sink-keyed")
    create_topics(bootstrap, 1, source)
    create_topics(bootstrap, 2, sink, keyed)
    config = {"application.id": unique("grow-sink"), "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
              "commit.interval.ms": 100, "metadata.max.age.ms": 500}
    with KafkaStreams(_topology(source, sink, keyed), config) as streams:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=30), streams.state
        _produce(bootstrap, source, range(8))
        assert _read(bootstrap, sink, 8) == {i: i % 2 for i in range(8)}
        admin = AdminClient({"bootstrap.servers": bootstrap})
        for future in admin.create_partitions([NewPartitions(sink, 4), NewPartitions(keyed, 4)]).values():
            future.result(30)
        time.sleep(2.0)  # four times metadata.max.age.ms: the collector has read the new count
        _produce(bootstrap, source, range(8, 48))
        got = _read(bootstrap, sink, 48)
        assert {i: got.get(i) for i in range(8, 48)} == {i: i % 4 for i in range(8, 48)}
        by_key = _read(bootstrap, keyed, 48)
        assert {by_key[i] for i in range(8, 48)} == {0, 1, 2, 3}  # keys k8..k47, murmur2 over 4 partitions
        assert streams.state is State.RUNNING and not streams.errors
