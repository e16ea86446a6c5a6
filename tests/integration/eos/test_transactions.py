"""Transactions with confluent-kafka (librdkafka), the same assertions against Apache Kafka 4.1.1
and our broker: committed records are visible to read_committed consumers, aborted ones never,
read_uncommitted sees both, and control markers never surface as records."""
from __future__ import annotations

import pytest
from confluent_kafka import KafkaException, TopicPartition

from tests.integration.eos._eos import (committed, create_topic, read_all, txn_producer, unique,
                                        values)

pytestmark = pytest.mark.integration


def test_committed_visible_aborted_never(kafka_broker):
    bs = kafka_broker.bootstrap_servers
    topic = unique("eos-vis")
    create_topic(bs, topic, 2)
    p = txn_producer(bs, unique("tx"))
    p.begin_transaction()
    for i in range(20):
        p.produce(topic, key=str(i), value=f"commit-1-{i}", partition=i % 2)
    p.commit_transaction(30)
    p.begin_transaction()
    for i in range(10):
        p.produce(topic, key=str(i), value=f"abort-{i}", partition=i % 2)
    p.flush(30)  # the aborted records are in the log before the abort
    p.abort_transaction(30)
    p.begin_transaction()
    for i in range(4):
        p.produce(topic, key=str(i), value=f"commit-2-{i}", partition=i % 2)
    p.commit_transaction(30)

    rc = read_all(bs, topic, 2, "read_committed")
    ru = read_all(bs, topic, 2, "read_uncommitted")
    expected_committed = {f"commit-1-{i}" for i in range(20)} | {f"commit-2-{i}" for i in range(4)}
    assert sorted(values(rc)) == sorted(expected_committed)
    assert sorted(values(ru)) == sorted(expected_committed | {f"abort-{i}" for i in range(10)})
    # markers take offsets but are never handed out: offsets have gaps, values never None
    for part in (0, 1):
        # 10 committed, marker, 5 aborted, marker, 2 committed (and a last marker)
        assert [m.offset() for m in ru if m.partition() == part] == \
            [*range(0, 10), *range(11, 16), 17, 18]
        assert [m.offset() for m in rc if m.partition() == part] == [*range(0, 10), 17, 18]
    assert all(m.value() is not None and m.key() is not None for m in ru)


def test_open_transaction_holds_read_committed_back(kafka_broker):
    bs = kafka_broker.bootstrap_servers
    topic = unique("eos-lso")
    create_topic(bs, topic, 1)
    plain = txn_producer(bs, unique("tx-a"))
    plain.begin_transaction()
    plain.produce(topic, value="before")
    plain.commit_transaction(30)
    open_p = txn_producer(bs, unique("tx-b"))
    open_p.begin_transaction()
    open_p.produce(topic, value="open")
    open_p.flush(30)
    other = txn_producer(bs, unique("tx-c"))
    other.begin_transaction()
    other.produce(topic, value="after-open")
    other.commit_transaction(30)
    # the LSO stops at the open transaction's first offset: "after-open" is not visible yet
    assert values(read_all(bs, topic, 1, "read_committed")) == ["before"]
    assert values(read_all(bs, topic, 1, "read_uncommitted")) == ["before", "open", "after-open"]
    open_p.commit_transaction(30)
    assert values(read_all(bs, topic, 1, "read_committed")) == ["before", "open", "after-open"]


def test_zombie_is_fenced_and_its_transaction_aborted(kafka_broker):
    bs = kafka_broker.bootstrap_servers
    topic = unique("eos-fence")
    tid = unique("tx")
    create_topic(bs, topic, 1)
    zombie = txn_producer(bs, tid)
    zombie.begin_transaction()
    zombie.produce(topic, value="zombie")
    zombie.flush(30)
    successor = txn_producer(bs, tid)  # same transactional.id: fences the first
    successor.begin_transaction()
    successor.produce(topic, value="successor")
    successor.commit_transaction(30)
    with pytest.raises(KafkaException) as info:
        zombie.produce(topic, value="zombie-2")
        zombie.commit_transaction(30)
    assert info.value.args[0].fatal() or "fenced" in str(info.value).lower()
    assert values(read_all(bs, topic, 1, "read_committed")) == ["successor"]
    assert sorted(values(read_all(bs, topic, 1, "read_uncommitted"))) == ["successor", "zombie"]


def test_offsets_sent_to_a_transaction_appear_on_commit_only(kafka_broker):
    bs = kafka_broker.bootstrap_servers
    topic = unique("eos-offs")
    group = unique("g")
    create_topic(bs, topic, 1)
    p = txn_producer(bs, unique("tx"))
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": bs, "group.id": group, "enable.auto.commit": False})
    try:
        meta = c.consumer_group_metadata()
        p.begin_transaction()
        p.produce(topic, value="x")
        p.send_offsets_to_transaction([TopicPartition(topic, 0, 7)], meta, 30)
        p.flush(30)
        # not before the commit: a stable fetch is held off (UNSTABLE_OFFSET_COMMIT)
        assert committed(bs, group, topic, 1, timeout=3) is None
        p.abort_transaction(30)
        assert committed(bs, group, topic, 1) == [-1001]  # never after an abort
        p.begin_transaction()
        p.produce(topic, value="y")
        p.send_offsets_to_transaction([TopicPartition(topic, 0, 11)], meta, 30)
        p.commit_transaction(30)
        assert committed(bs, group, topic, 1) == [11]
    finally:
        c.close()
