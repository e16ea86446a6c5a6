"""Consumer groups against every broker in `kafka_broker`: committed offsets survive the
consumer, members of one group share the partitions, and the Java group tool reports lag."""
from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.fixtures.reference_kafka import Broker
from tests.reference.tools import run_tool

pytestmark = pytest.mark.integration


def create_topic(servers: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": servers})  # must outlive the future
    admin.create_topics([NewTopic(topic, num_partitions=partitions,
                                  replication_factor=1)])[topic].result(30)


def produce(servers: str, topic: str, count: int, partitions: int) -> None:
    producer = Producer({"bootstrap.servers": servers, "acks": "all", "linger.ms": 5})
    for i in range(count):
        producer.produce(topic, key=f"k{i}".encode(), value=f"v{i}".encode(),
                         partition=i % partitions)
    assert producer.flush(30) == 0


def consumer(servers: str, group: str, **extra: object) -> Consumer:
    return Consumer({"bootstrap.servers": servers, "group.id": group,
                     "auto.offset.reset": "earliest", "enable.auto.commit": False,
                     "session.timeout.ms": 6000, "heartbeat.interval.ms": 500, **extra})


def drain(c: Consumer, want: int, seconds: float = 30) -> list[bytes]:
    values: list[bytes] = []
    deadline = time.monotonic() + seconds
    while len(values) < want and time.monotonic() < deadline:
        for message in c.consume(100, timeout=0.3):
            assert message.error() is None, message.error()
            values.append(message.value())
    return values


def test_committed_offsets_resume_a_new_consumer(kafka_broker: Broker, unique_topic: str) -> None:
    servers = kafka_broker.bootstrap_servers
    create_topic(servers, unique_topic, 1)
    produce(servers, unique_topic, 100, 1)
    first = consumer(servers, unique_topic)
    try:
        first.subscribe([unique_topic])
        got = drain(first, 100)
        assert got == [f"v{i}".encode() for i in range(100)]
        first.commit(offsets=[TopicPartition(unique_topic, 0, 60)], asynchronous=False)
        committed = first.committed([TopicPartition(unique_topic, 0)], timeout=10)
        assert [tp.offset for tp in committed] == [60]
    finally:
        first.close()

    second = consumer(servers, unique_topic)
    try:
        second.subscribe([unique_topic])
        assert drain(second, 40) == [f"v{i}".encode() for i in range(60, 100)]
    finally:
        second.close()


@pytest.mark.reference
def test_group_tool_reports_committed_offsets_and_lag(kafka_broker: Broker,
                                                      unique_topic: str) -> None:
    servers = kafka_broker.bootstrap_servers
    create_topic(servers, unique_topic, 2)
    produce(servers, unique_topic, 50, 2)
    c = consumer(servers, unique_topic)
    try:
        c.assign([TopicPartition(unique_topic, 0), TopicPartition(unique_topic, 1)])
        c.commit(offsets=[TopicPartition(unique_topic, 0, 25), TopicPartition(unique_topic, 1, 5)],
                 asynchronous=False)
    finally:
        c.close()
    described = run_tool("kafka-consumer-groups", "--bootstrap-server", servers, "--describe",
                         "--group", unique_topic)
    assert described.returncode == 0, described.stderr
    lines = described.stdout.splitlines()
    header = next(line.split() for line in lines if "LAG" in line)
    rows = [dict(zip(header, line.split())) for line in lines
            if line.split()[:2] == [unique_topic, unique_topic]]
    offsets = {row["PARTITION"]: (row["CURRENT-OFFSET"], row["LOG-END-OFFSET"], row["LAG"])
               for row in rows}
    assert offsets == {"0": ("25", "25", "0"), "1": ("5", "25", "20")}


def test_two_members_share_the_partitions(kafka_broker: Broker, unique_topic: str) -> None:
    servers = kafka_broker.bootstrap_servers
    create_topic(servers, unique_topic, 4)
    produce(servers, unique_topic, 200, 4)
    members = [consumer(servers, unique_topic), consumer(servers, unique_topic)]
    try:
        for member in members:
            member.subscribe([unique_topic])
        values: list[bytes] = []
        assigned: list[set[int]] = [set(), set()]
        deadline = time.monotonic() + 45
        while (len(set(values)) < 200 or not all(assigned)) and time.monotonic() < deadline:
            for index, member in enumerate(members):
                for message in member.consume(100, timeout=0.2):
                    assert message.error() is None, message.error()
                    values.append(message.value())
                assigned[index] = {tp.partition for tp in member.assignment()}
        # no commits, so a partition that moves on the second join is read again from the start
        assert set(values) == {f"v{i}".encode() for i in range(200)}
        assert assigned[0] and assigned[1] and not assigned[0] & assigned[1]
        assert assigned[0] | assigned[1] == {0, 1, 2, 3}
    finally:
        for member in members:
            member.close()
