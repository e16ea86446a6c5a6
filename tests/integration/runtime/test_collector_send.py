"""KafkaRecordCollector on a real broker: what send() is given (key, value, timestamp, headers, explicit or
partitioner-chosen partition) is what a consumer reads, acknowledged counts per explicit partition, and a
failed record reaches check() through the producer's error-only delivery callback."""
from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from pystreams.runtime.collector import KafkaRecordCollector, ProductionError

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def test_sent_records_arrive_as_sent_and_failures_surface(pystreams_broker):
    bootstrap = pystreams_broker.bootstrap_servers
    topic = f"collector-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    small = topic + "-small"
    for f in admin.create_topics([NewTopic(topic, 2, 1),
                                  NewTopic(small, 1, 1, config={"max.message.bytes": "1000"})]).values():
        f.result(15)
    collector = KafkaRecordCollector({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random",
                                      "delivery.report.only.error": True, "linger.ms": 5})
    try:
        collector.send(topic, b"k1", b"v1", (), 1_700_000_000_001, None)
        collector.send(topic, b"k2", b"v2", (("h", b"x"), ("n", None)), 1_700_000_000_002, 1)
        collector.send(topic, None, b"v3", (), 1_700_000_000_003, 0)
        collector.flush_producer(15)
        assert (collector.take_acked(topic, 1), collector.take_acked(topic, 0)) == (1, 1)  # explicit only

        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"g-{topic}"})
        consumer.assign([TopicPartition(topic, p, 0) for p in (0, 1)])
        got = []
        for _ in range(50):
            got += [m for m in consumer.consume(10, 0.2) if m.error() is None]
            if len(got) == 3:
                break
        consumer.close()
        seen = {m.value(): (m.key(), m.timestamp()[1], m.headers(), m.partition()) for m in got}
        assert seen[b"v2"] == (b"k2", 1_700_000_000_002, [("h", b"x"), ("n", None)], 1)
        assert seen[b"v3"] == (None, 1_700_000_000_003, None, 0)
        assert seen[b"v1"][:3] == (b"k1", 1_700_000_000_001, None)

        with pytest.raises(ProductionError, match="Unknown partition"):  # known at once: raised by send()
            collector.send(topic, b"k", b"v", (), 1_700_000_000_004, 7)
        assert collector.error is None
        # refused by the broker (the topic's max.message.bytes): only the delivery callback knows
        collector.send(small, b"k", b"x" * 5000, (), 1_700_000_000_005, None)
        with pytest.raises(ProductionError, match=small):
            collector.flush_producer(15)
        assert collector.error is not None
    finally:
        collector.close(5)
