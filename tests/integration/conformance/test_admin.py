"""The admin API through librdkafka's AdminClient against every broker in `kafka_broker`:
topic configs, partitions, records deletion, offsets, cluster description, groups, and the
error codes for bad requests."""
from __future__ import annotations

import time

import pytest
from confluent_kafka import (Consumer, ConsumerGroupState, ConsumerGroupTopicPartitions,
                             KafkaError, KafkaException, Producer, TopicPartition)
from confluent_kafka.admin import (AdminClient, ConfigResource, NewPartitions, NewTopic,
                                   OffsetSpec, ResourceType)

from tests.fixtures.reference_kafka import Broker

pytestmark = pytest.mark.integration


def admin(broker: Broker) -> AdminClient:
    """An admin client; keep a reference while its futures are pending (librdkafka destroys
    the handle, failing them, when it is garbage-collected)."""
    return AdminClient({"bootstrap.servers": broker.bootstrap_servers})


def produce(servers: str, topic: str, count: int, partition: int = 0) -> None:
    producer = Producer({"bootstrap.servers": servers})
    for i in range(count):
        producer.produce(topic, value=f"v{i}".encode(), partition=partition)
    assert producer.flush(30) == 0


def error_code(future: object) -> int:
    with pytest.raises(KafkaException) as raised:
        future.result(30)  # type: ignore[attr-defined]
    return int(raised.value.args[0].code())


def test_topic_configs_and_partitions(kafka_broker: Broker, unique_topic: str) -> None:
    client = admin(kafka_broker)
    client.create_topics([NewTopic(unique_topic, num_partitions=1, replication_factor=1,
                                   config={"cleanup.policy": "compact",
                                           "retention.ms": "3600000"})])[unique_topic].result(30)
    resource = ConfigResource(ResourceType.TOPIC, unique_topic)
    configs = client.describe_configs([resource])[resource].result(30)
    assert configs["cleanup.policy"].value == "compact"
    assert configs["retention.ms"].value == "3600000"
    assert not configs["retention.ms"].is_default
    assert configs["segment.bytes"].is_default  # defaults are described too

    client.create_partitions([NewPartitions(unique_topic, 3)])[unique_topic].result(30)
    # Apache Kafka answers CreatePartitions before its metadata cache has the new partitions
    partitions: list[int] = []
    deadline = time.monotonic() + 15
    while partitions != [0, 1, 2] and time.monotonic() < deadline:
        partitions = sorted(client.list_topics(unique_topic, timeout=10).topics[unique_topic].partitions)
        time.sleep(0.1 if partitions != [0, 1, 2] else 0)
    assert partitions == [0, 1, 2]


def test_delete_records_and_list_offsets(kafka_broker: Broker, unique_topic: str) -> None:
    client = admin(kafka_broker)
    client.create_topics([NewTopic(unique_topic, 1, 1)])[unique_topic].result(30)
    produce(kafka_broker.bootstrap_servers, unique_topic, 20)
    partition = TopicPartition(unique_topic, 0)

    def offsets() -> tuple[int, int]:
        earliest = client.list_offsets({partition: OffsetSpec.earliest()})[partition].result(30)
        latest = client.list_offsets({partition: OffsetSpec.latest()})[partition].result(30)
        return earliest.offset, latest.offset

    assert offsets() == (0, 20)
    deleted = client.delete_records([TopicPartition(unique_topic, 0, 5)])[partition].result(30)
    assert deleted.low_watermark == 5
    assert offsets() == (5, 20)


def test_describe_cluster_lists_the_broker_we_talk_to(kafka_broker: Broker) -> None:
    client = admin(kafka_broker)  # must outlive the future
    cluster = client.describe_cluster().result(30)
    assert len(cluster.nodes) == 1
    node = cluster.nodes[0]
    assert f"{node.host}:{node.port}" == kafka_broker.bootstrap_servers
    assert cluster.cluster_id


def test_groups_are_listed_and_described(kafka_broker: Broker, unique_topic: str) -> None:
    client = admin(kafka_broker)
    client.create_topics([NewTopic(unique_topic, 1, 1)])[unique_topic].result(30)
    consumer = Consumer({"bootstrap.servers": kafka_broker.bootstrap_servers,
                         "group.id": unique_topic, "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(unique_topic, 0)])
        consumer.commit(offsets=[TopicPartition(unique_topic, 0, 0)], asynchronous=False)
    finally:
        consumer.close()
    listed = client.list_consumer_groups().result(30)
    assert unique_topic in {group.group_id for group in listed.valid}
    described = client.describe_consumer_groups([unique_topic])[unique_topic].result(30)
    assert described.group_id == unique_topic
    assert described.state == ConsumerGroupState.EMPTY and described.members == []
    committed = client.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(unique_topic)])
    offsets = committed[unique_topic].result(30).topic_partitions
    assert [(tp.topic, tp.partition, tp.offset) for tp in offsets] == [(unique_topic, 0, 0)]


def test_bad_admin_requests_get_kafka_error_codes(kafka_broker: Broker, unique_topic: str) -> None:
    client = admin(kafka_broker)
    assert error_code(client.create_topics([NewTopic(unique_topic, num_partitions=0,
                                                     replication_factor=1)])[unique_topic]
                      ) == KafkaError.INVALID_PARTITIONS
    assert error_code(client.delete_topics([unique_topic])[unique_topic]
                      ) == KafkaError.UNKNOWN_TOPIC_OR_PART
    client.create_topics([NewTopic(unique_topic, 2, 1)])[unique_topic].result(30)
    assert error_code(client.create_topics([NewTopic(unique_topic, 2, 1)])[unique_topic]
                      ) == KafkaError.TOPIC_ALREADY_EXISTS
    assert error_code(client.create_partitions([NewPartitions(unique_topic, 1)])[unique_topic]
                      ) == KafkaError.INVALID_PARTITIONS


def test_delete_records_on_a_compact_only_topic_is_a_policy_violation(kafka_broker: Broker, unique_topic: str) -> None:
    client = admin(kafka_broker)
    client.create_topics([NewTopic(unique_topic, 1, 1, config={"cleanup.policy": "compact"})])[unique_topic].result(30)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap_servers})
    for i in range(5):
        producer.produce(unique_topic, key=f"k{i}".encode(), value=b"v", partition=0)
    assert producer.flush(30) == 0
    partition = TopicPartition(unique_topic, 0)
    assert error_code(client.delete_records([TopicPartition(unique_topic, 0, 3)])[partition]) \
        == KafkaError.POLICY_VIOLATION
    earliest = client.list_offsets({partition: OffsetSpec.earliest()})[partition].result(30)
    assert earliest.offset == 0  # nothing was deleted
