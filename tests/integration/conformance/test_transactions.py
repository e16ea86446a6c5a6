"""Idempotent and transactional producers against every broker in `kafka_broker`: a
read_committed consumer sees committed transactions only, read_uncommitted sees aborted records
too, and the offsets count the transaction markers."""
from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.fixtures.reference_kafka import Broker

pytestmark = pytest.mark.integration


def create_topic(servers: str, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": servers})  # must outlive the future
    admin.create_topics([NewTopic(topic, num_partitions=1,
                                  replication_factor=1)])[topic].result(30)


def read_all(servers: str, topic: str, isolation: str, want: int,
             want_high: int) -> list[bytes]:
    c = Consumer({"bootstrap.servers": servers, "group.id": f"{topic}-{isolation}",
                  "auto.offset.reset": "earliest", "isolation.level": isolation,
                  "enable.auto.commit": False})
    values: list[bytes] = []
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        deadline = time.monotonic() + 20
        while len(values) < want and time.monotonic() < deadline:
            for message in c.consume(100, timeout=0.3):
                assert message.error() is None, message.error()
                values.append(message.value())
        # and nothing more arrives
        values.extend(m.value() for m in c.consume(100, timeout=1.0) if m.error() is None)
        # the end offset this isolation level sees (the LSO for read_committed); transaction
        # markers are written after EndTxn returns, so give the last one a moment
        for _ in range(50):
            low, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
            if high >= want_high:
                break
            time.sleep(0.1)
        values.append(f"high={high}".encode())
    finally:
        c.close()
    return values


def test_read_committed_sees_only_committed_transactions(
        kafka_broker: Broker, unique_topic: str) -> None:
    servers = kafka_broker.bootstrap_servers
    create_topic(servers, unique_topic)
    producer = Producer({"bootstrap.servers": servers, "transactional.id": unique_topic,
                         "transaction.timeout.ms": 30000})
    producer.init_transactions(10)
    for batch, outcome in enumerate(["commit", "abort", "commit"]):
        producer.begin_transaction()
        for i in range(5):
            producer.produce(unique_topic, key=b"k", value=f"{outcome}-{batch}-{i}".encode())
        producer.flush(30)  # so aborted records reach the log too (abort purges unsent ones)
        if outcome == "commit":
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)
    # 15 records and 3 markers (commit, abort, commit)
    committed = [f"commit-{b}-{i}".encode() for b in (0, 2) for i in range(5)]
    everything = [f"{o}-{b}-{i}".encode() for b, o in enumerate(["commit", "abort", "commit"])
                  for i in range(5)]
    assert read_all(servers, unique_topic, "read_committed", 10, 18) == [*committed, b"high=18"]
    assert read_all(servers, unique_topic, "read_uncommitted", 15, 18) == [*everything,
                                                                          b"high=18"]


def test_idempotent_producer_keeps_order_and_no_duplicates(kafka_broker: Broker,
                                                           unique_topic: str) -> None:
    servers = kafka_broker.bootstrap_servers
    create_topic(servers, unique_topic)
    producer = Producer({"bootstrap.servers": servers, "enable.idempotence": True,
                         "linger.ms": 2, "batch.num.messages": 50})
    for i in range(500):
        producer.produce(unique_topic, value=str(i).encode())
    assert producer.flush(30) == 0
    values = read_all(servers, unique_topic, "read_uncommitted", 500, 500)
    assert values == [str(i).encode() for i in range(500)] + [b"high=500"]
