"""Client-level conformance: the same produce/consume assertions against every broker in
`kafka_broker` (the reference Apache Kafka, then ours), with the two
Python client stacks, librdkafka (confluent-kafka) and kafka-python, in both directions."""
from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer

from tests.fixtures.reference_kafka import Broker

pytestmark = pytest.mark.integration

N = 200


def create_topic(servers: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": servers})  # must outlive the future
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions,
                                            replication_factor=1)])
    futures[topic].result(30)


def records(tag: str) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    """Keyed records with headers: a repeated header name, binary and empty values."""
    return [(f"{tag}-k{i % 17}".encode(), f"{tag}-v{i}".encode() + bytes([i % 256]),
             [("seq", str(i).encode()), ("trace", bytes([0, 255, i % 256])), ("seq", b"")])
            for i in range(N)]


def produce_confluent(servers: str, topic: str,
                      batch: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]) -> None:
    producer = Producer({"bootstrap.servers": servers, "acks": "all", "linger.ms": 5})
    errors: list[str] = []
    for key, value, headers in batch:
        producer.produce(topic, key=key, value=value, headers=headers,
                         on_delivery=lambda err, _m: errors.append(str(err)) if err else None)
    assert producer.flush(30) == 0
    assert errors == []


def consume_confluent(servers: str, topic: str, count: int) -> list[tuple[bytes, bytes, list]]:
    consumer = Consumer({"bootstrap.servers": servers, "group.id": f"{topic}-ck",
                         "auto.offset.reset": "earliest"})
    out: list[tuple[bytes, bytes, list]] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 30
        while len(out) < count and time.monotonic() < deadline:
            for message in consumer.consume(500, timeout=0.5):
                assert message.error() is None, message.error()
                out.append((message.key(), message.value(), message.headers() or []))
    finally:
        consumer.close()
    return out


def produce_kafka_python(servers: str, topic: str,
                         batch: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]) -> None:
    producer = KafkaProducer(bootstrap_servers=servers, acks="all", linger_ms=5)
    try:
        futures = [producer.send(topic, key=key, value=value, headers=headers)
                   for key, value, headers in batch]
        producer.flush(30)
        for future in futures:
            future.get(timeout=30)
    finally:
        producer.close(timeout=10)


def consume_kafka_python(servers: str, topic: str, count: int) -> list[tuple[bytes, bytes, list]]:
    consumer = KafkaConsumer(topic, bootstrap_servers=servers, group_id=f"{topic}-kp",
                             auto_offset_reset="earliest", consumer_timeout_ms=30_000)
    out: list[tuple[bytes, bytes, list]] = []
    try:
        for message in consumer:
            out.append((message.key, message.value, list(message.headers)))
            if len(out) == count:
                break
    finally:
        consumer.close()
    return out


PRODUCERS = {"confluent": produce_confluent, "kafka-python": produce_kafka_python}
CONSUMERS = {"confluent": consume_confluent, "kafka-python": consume_kafka_python}


@pytest.mark.parametrize("consumer", sorted(CONSUMERS))
@pytest.mark.parametrize("producer", sorted(PRODUCERS))
def test_round_trip_single_partition_keeps_order_keys_and_headers(
        kafka_broker: Broker, unique_topic: str, producer: str, consumer: str) -> None:
    servers = kafka_broker.bootstrap_servers
    create_topic(servers, unique_topic, partitions=1)
    sent = records(producer)
    PRODUCERS[producer](servers, unique_topic, sent)
    received = CONSUMERS[consumer](servers, unique_topic, N)
    assert [(k, v, [(h, bytes(b)) for h, b in hs]) for k, v, hs in received] == sent


def test_keyed_records_partition_by_key_and_keep_per_key_order(
        kafka_broker: Broker, unique_topic: str) -> None:
    servers = kafka_broker.bootstrap_servers
    create_topic(servers, unique_topic, partitions=4)
    sent = records("keyed")
    produce_confluent(servers, unique_topic, sent)
    consumer = Consumer({"bootstrap.servers": servers, "group.id": unique_topic,
                         "auto.offset.reset": "earliest"})
    by_key: dict[bytes, list[bytes]] = {}
    partition_of: dict[bytes, set[int]] = {}
    try:
        consumer.subscribe([unique_topic])
        deadline = time.monotonic() + 30
        seen = 0
        while seen < N and time.monotonic() < deadline:
            for message in consumer.consume(500, timeout=0.5):
                assert message.error() is None, message.error()
                by_key.setdefault(message.key(), []).append(message.value())
                partition_of.setdefault(message.key(), set()).add(message.partition())
                seen += 1
    finally:
        consumer.close()
    expected: dict[bytes, list[bytes]] = {}
    for key, value, _ in sent:
        expected.setdefault(key, []).append(value)
    assert by_key == expected
    assert all(len(parts) == 1 for parts in partition_of.values())
    assert len(set().union(*partition_of.values())) > 1
