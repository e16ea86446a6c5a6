"""Broker SIGKILL in the middle of a transaction, then restart on the same data dir and port:
the transaction state comes back from `__transaction_state`, the partitions' producer state
and last stable offset from the logs, and the transaction then completes or times out as
Kafka's would."""
from __future__ import annotations

import time

import pytest

from tests.integration.eos._eos import create_topic, read_all, txn_producer, unique, values

pytestmark = pytest.mark.integration

FAST_ABORT = {"transaction.abort.timed.out.transaction.cleanup.interval.ms": "200"}


def test_transaction_survives_a_broker_sigkill_and_commits(pystreams_broker_factory):
    broker = pystreams_broker_factory(**FAST_ABORT)
    bs = broker.bootstrap_servers
    topic = unique("eos-kill")
    create_topic(bs, topic, 2)
    p = txn_producer(bs, unique("tx"))
    p.begin_transaction()
    for i in range(6):
        p.produce(topic, value=f"v{i}", partition=i % 2)
    p.flush(30)
    broker.kill()
    broker.start()  # same data dir, same port: the client reconnects by itself
    for i in range(6, 10):
        p.produce(topic, value=f"v{i}", partition=i % 2)
    p.commit_transaction(60)
    got = values(read_all(bs, topic, 2, "read_committed"))
    assert sorted(got) == sorted(f"v{i}" for i in range(10))  # each exactly once


def test_orphaned_transaction_is_aborted_after_restart_and_lso_moves_on(pystreams_broker_factory):
    broker = pystreams_broker_factory(**FAST_ABORT)
    bs = broker.bootstrap_servers
    topic = unique("eos-orphan")
    tid = unique("tx")
    create_topic(bs, topic, 1)
    done = txn_producer(bs, unique("tx-ok"))
    done.begin_transaction()
    done.produce(topic, value="committed-before")
    done.commit_transaction(30)
    p = txn_producer(bs, tid, **{"transaction.timeout.ms": 8000})
    p.begin_transaction()
    p.produce(topic, value="orphan")
    p.flush(30)
    broker.kill()
    broker.start()  # the producer `p` never sends anything again
    # right after restart the open transaction still holds the LSO back
    assert values(read_all(bs, topic, 1, "read_committed")) == ["committed-before"]
    after = txn_producer(bs, unique("tx-after"))
    after.begin_transaction()
    after.produce(topic, value="after")
    after.commit_transaction(30)
    assert values(read_all(bs, topic, 1, "read_committed")) == ["committed-before"]
    deadline = time.time() + 30
    while time.time() < deadline:  # the coordinator times the orphan out and aborts it
        seen = values(read_all(bs, topic, 1, "read_committed"))
        if seen != ["committed-before"]:
            break
        time.sleep(0.5)
    assert seen == ["committed-before", "after"]
    assert values(read_all(bs, topic, 1, "read_uncommitted")) == [
        "committed-before", "orphan", "after"]
    # a new instance of the orphan's id starts cleanly (its epoch was bumped by the abort)
    again = txn_producer(bs, tid)
    again.begin_transaction()
    again.produce(topic, value="again")
    again.commit_transaction(30)
    assert values(read_all(bs, topic, 1, "read_committed"))[-1] == "again"
    assert p is not None  # (kept alive until here, silent)


def test_idempotent_producer_state_survives_restart(pystreams_broker_factory):
    """A retried batch after a restart is still recognised (its sequence is in the log)."""
    from confluent_kafka import Producer
    broker = pystreams_broker_factory()
    bs = broker.bootstrap_servers
    topic = unique("eos-idem")
    create_topic(bs, topic, 1)
    p = Producer({"bootstrap.servers": bs, "enable.idempotence": True, "linger.ms": 0})
    for i in range(5):
        p.produce(topic, value=f"a{i}")
    p.flush(30)
    broker.kill()
    broker.start()
    for i in range(5):
        p.produce(topic, value=f"b{i}")
    assert p.flush(60) == 0
    got = values(read_all(bs, topic, 1, "read_uncommitted"))
    assert got == [f"a{i}" for i in range(5)] + [f"b{i}" for i in range(5)]


def test_transactional_offsets_after_restart_are_the_committed_ones(pystreams_broker_factory):
    """`__consumer_offsets` replay applies TxnOffsetCommit records only at their COMMIT marker:
    aborted and still-open ones never become the group's offsets after a restart."""
    from confluent_kafka import Consumer, TopicPartition

    from tests.integration.eos._eos import committed
    broker = pystreams_broker_factory()
    bs = broker.bootstrap_servers
    topic, group = unique("eos-roffs"), unique("g")
    create_topic(bs, topic, 1)
    p = txn_producer(bs, unique("tx"))
    c = Consumer({"bootstrap.servers": bs, "group.id": group, "enable.auto.commit": False})
    meta = c.consumer_group_metadata()
    c.close()
    for offset, commit in ((5, True), (9, False)):
        p.begin_transaction()
        p.produce(topic, value=str(offset))
        p.send_offsets_to_transaction([TopicPartition(topic, 0, offset)], meta, 30)
        p.commit_transaction(30) if commit else p.abort_transaction(30)
    p.begin_transaction()  # left open across the kill
    p.produce(topic, value="open")
    p.send_offsets_to_transaction([TopicPartition(topic, 0, 13)], meta, 30)
    p.flush(30)
    broker.kill()
    broker.start()
    assert committed(bs, group, topic, 1, timeout=3) is None  # 13 is pending: unstable
    p.commit_transaction(60)  # the same producer finishes it after the restart
    assert committed(bs, group, topic, 1) == [13]
    broker.kill()
    broker.start()
    assert committed(bs, group, topic, 1) == [13]
