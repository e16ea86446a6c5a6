"""confluent-kafka (librdkafka) produces keyed records with headers in every compression codec
and reads them back byte for byte from our broker."""
from __future__ import annotations

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from tests.integration.broker._clients import create_topic, drain, unique

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_roundtrip_every_codec(pystreams_broker, codec):
    bs = pystreams_broker.bootstrap_servers
    topic = unique(f"codec-{codec}")
    create_topic(bs, topic, partitions=3)
    producer = Producer({"bootstrap.servers": bs, "compression.type": codec, "linger.ms": 5,
                         "acks": "all"})
    sent = {}
    for i in range(500):
        key = f"key-{i}".encode()
        value = (f"value-{i}-" + "x" * (i % 50)).encode()
        producer.produce(topic, key=key, value=value, headers=[("n", str(i).encode()), ("c", None)])
        sent[key] = value
    assert producer.flush(15) == 0
    consumer = Consumer({"bootstrap.servers": bs, "group.id": unique("g"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    try:
        got = drain(consumer, len(sent))
    finally:
        consumer.close()
    assert len(got) == len(sent)
    for msg in got:
        assert sent[msg.key()] == msg.value()
        headers = dict(msg.headers())
        assert headers["n"] == msg.key().split(b"-")[1]
        assert headers["c"] is None
    # offsets are dense per partition: exactly once, nothing skipped
    by_partition: dict[int, list[int]] = {}
    for msg in got:
        by_partition.setdefault(msg.partition(), []).append(msg.offset())
    for offsets in by_partition.values():
        assert sorted(offsets) == list(range(len(offsets)))


def test_acks_zero_and_timestamps(pystreams_broker):
    bs = pystreams_broker.bootstrap_servers
    topic = unique("acks0")
    create_topic(bs, topic)
    producer = Producer({"bootstrap.servers": bs, "acks": 0})
    for i in range(50):
        producer.produce(topic, value=str(i).encode(), timestamp=1_700_000_000_000 + i)
    assert producer.flush(10) == 0
    consumer = Consumer({"bootstrap.servers": bs, "group.id": unique("g"),
                         "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, 0, 0)])
    try:
        got = drain(consumer, 50)
    finally:
        consumer.close()
    assert [m.value() for m in got] == [str(i).encode() for i in range(50)]
    assert [m.timestamp()[1] for m in got] == [1_700_000_000_000 + i for i in range(50)]


def test_unknown_topic_without_autocreate(pystreams_broker):
    bs = pystreams_broker.bootstrap_servers
    consumer = Consumer({"bootstrap.servers": bs, "group.id": unique("g"),
                         "allow.auto.create.topics": False})
    try:
        md = consumer.list_topics(unique("nope"), timeout=10)
    finally:
        consumer.close()
    (meta,) = md.topics.values()
    assert meta.error is not None and meta.error.code() == 3  # UNKNOWN_TOPIC_OR_PARTITION
