"""A deleted topic's committed offsets go with it, as in Kafka (GroupCoordinator.onPartitionsDeleted):
after the topic is re-created, a group has no committed offset there and reads it from the start,
instead of resuming at the old topic's offset and skipping records. Open transactional offset
commits for it are dropped too. On both brokers; on ours also across a restart of the data dir."""
from __future__ import annotations

import time

import pytest
from confluent_kafka import OFFSET_INVALID, Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from tests.integration.broker._clients import create_topic, drain, unique

pytestmark = pytest.mark.integration
PARTITIONS = 2


def _consumer(bs: str, group: str) -> Consumer:
    return Consumer({"bootstrap.servers": bs, "group.id": group, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "session.timeout.ms": 6000})


def _produce(bs: str, topic: str, per_partition: int) -> None:
    producer = Producer({"bootstrap.servers": bs, "acks": "all"})
    for p in range(PARTITIONS):
        for i in range(per_partition):
            producer.produce(topic, value=f"{p}-{i}".encode(), partition=p)
    assert producer.flush(15) == 0


def _committed(bs: str, group: str, topic: str) -> dict[int, int]:
    c = _consumer(bs, group)
    try:
        return {tp.partition: tp.offset for tp in
                c.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=15)}
    finally:
        c.close()


def _commit(bs: str, group: str, offsets: list[TopicPartition]) -> None:
    c = _consumer(bs, group)
    try:
        c.commit(offsets=offsets, asynchronous=False)
    finally:
        c.close()


def _delete(bs: str, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": bs})
    admin.delete_topics([topic], operation_timeout=15)[topic].result(timeout=20)


def _recreate(bs: str, topic: str) -> None:
    """Kafka finishes a deletion asynchronously: retry TOPIC_ALREADY_EXISTS for a bounded time."""
    deadline = time.monotonic() + 30
    while True:
        try:
            create_topic(bs, topic, partitions=PARTITIONS)
            return
        except KafkaException as exc:
            if "already exists" not in str(exc).lower() and "marked for deletion" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _wait_uncommitted(bs: str, group: str, topic: str) -> dict[int, int]:
    """Poll (bounded) until no partition has a committed offset; returns the last answer."""
    deadline = time.monotonic() + 20
    seen = _committed(bs, group, topic)
    while any(o != OFFSET_INVALID for o in seen.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
        seen = _committed(bs, group, topic)
    return seen


def _commit_then_delete(bs: str) -> tuple[str, str, str]:
    topic, other, group = unique("dto"), unique("dto-keep"), unique("dtog")
    create_topic(bs, topic, partitions=PARTITIONS)
    create_topic(bs, other, partitions=PARTITIONS)
    _produce(bs, topic, 4)
    _commit(bs, group, [TopicPartition(topic, p, 2) for p in range(PARTITIONS)]
            + [TopicPartition(other, p, 0) for p in range(PARTITIONS)])
    assert _committed(bs, group, topic) == {p: 2 for p in range(PARTITIONS)}
    _delete(bs, topic)
    return topic, other, group


def _assert_reads_from_start(bs: str, group: str, topic: str) -> None:
    """The group's consumer reads all 4 records of each partition of the re-created topic."""
    _produce(bs, topic, 4)
    c = _consumer(bs, group)
    try:
        c.subscribe([topic])
        got = drain(c, 4 * PARTITIONS, timeout=30)
    finally:
        c.close()
    assert sorted(m.value().decode() for m in got) == \
        sorted(f"{p}-{i}" for p in range(PARTITIONS) for i in range(4))


def test_deleted_topic_loses_committed_offsets(kafka_broker):
    bs = kafka_broker.bootstrap_servers
    topic, other, group = _commit_then_delete(bs)
    _recreate(bs, topic)
    assert _wait_uncommitted(bs, group, topic) == {p: OFFSET_INVALID for p in range(PARTITIONS)}
    assert _committed(bs, group, other) == {p: 0 for p in range(PARTITIONS)}  # untouched
    _assert_reads_from_start(bs, group, topic)


def _commit_txn_over_deletion(bs: str) -> tuple[str, str]:
    """A TxnOffsetCommit for a topic, the topic deleted, then the transaction committed."""
    topic, group = unique("dtx"), unique("dtxg")
    create_topic(bs, topic, partitions=PARTITIONS)
    _produce(bs, topic, 4)
    member = _consumer(bs, group)
    producer = Producer({"bootstrap.servers": bs, "transactional.id": unique("dtx-tid")})
    try:
        producer.init_transactions(20)
        producer.begin_transaction()
        producer.send_offsets_to_transaction([TopicPartition(topic, p, 3)
                                              for p in range(PARTITIONS)],
                                             member.consumer_group_metadata(), 20)
        _delete(bs, topic)
        producer.commit_transaction(20)
    finally:
        member.close()
    return topic, group


def test_open_transactional_commit_of_deleted_topic_is_dropped(kafka_broker):
    """A TxnOffsetCommit still open when its topic is deleted does not appear on COMMIT."""
    bs = kafka_broker.bootstrap_servers
    topic, group = _commit_txn_over_deletion(bs)
    _recreate(bs, topic)
    assert _wait_uncommitted(bs, group, topic) == {p: OFFSET_INVALID for p in range(PARTITIONS)}


def test_dropped_transactional_commit_stays_dropped_after_restart(pystreams_broker_factory, tmp_path):
    """Replaying `__consumer_offsets` (transactional batch, tombstone, COMMIT marker) agrees."""
    broker = pystreams_broker_factory(tmp_path / "data")
    topic, group = _commit_txn_over_deletion(broker.bootstrap_servers)
    assert broker.stop() == 0
    broker.start()
    assert _committed(broker.bootstrap_servers, group, topic) == \
        {p: OFFSET_INVALID for p in range(PARTITIONS)}


def test_offsets_stay_removed_after_restart(pystreams_broker_factory, tmp_path):
    """The removal is in `__consumer_offsets` (tombstones): a restart does not bring it back,
    neither before nor after the topic is re-created."""
    broker = pystreams_broker_factory(tmp_path / "data")
    topic, other, group = _commit_then_delete(broker.bootstrap_servers)
    assert broker.stop() == 0
    broker.start()
    bs = broker.bootstrap_servers
    assert _committed(bs, group, topic) == {p: OFFSET_INVALID for p in range(PARTITIONS)}
    _recreate(bs, topic)
    broker.kill()
    broker.start()
    bs = broker.bootstrap_servers
    assert _committed(bs, group, topic) == {p: OFFSET_INVALID for p in range(PARTITIONS)}
    assert _committed(bs, group, other) == {p: 0 for p in range(PARTITIONS)}
    _assert_reads_from_start(bs, group, topic)
