"""Restart on the same data dir: records, topics and committed offsets are still there, after a
clean shutdown (SIGTERM) and after SIGKILL."""
from __future__ import annotations

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from tests.integration.broker._clients import create_topic, drain, unique

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_records_and_offsets_survive_restart(pystreams_broker_factory, tmp_path, how):
    broker = pystreams_broker_factory(tmp_path / "data")
    bs = broker.bootstrap_servers
    topic, group = unique("rs"), unique("rsg")
    create_topic(bs, topic, partitions=3)
    producer = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 2})
    for i in range(300):
        producer.produce(topic, key=str(i).encode(), value=f"value-{i}".encode())
    assert producer.flush(15) == 0
    consumer = Consumer({"bootstrap.servers": bs, "group.id": group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    first = drain(consumer, 120, timeout=30)[:120]
    commits = {}
    for m in first:
        commits[m.partition()] = max(commits.get(m.partition(), -1), m.offset() + 1)
    consumer.commit(offsets=[TopicPartition(topic, p, o) for p, o in commits.items()],
                    asynchronous=False)
    consumer.close()

    if how == "sigkill":
        broker.kill()
    else:
        assert broker.stop() == 0  # clean shutdown on SIGTERM
        assert (broker.data_dir / ".kafka_cleanshutdown").exists()
    broker.start()
    bs = broker.bootstrap_servers

    checker = Consumer({"bootstrap.servers": bs, "group.id": group,
                        "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        committed = checker.committed([TopicPartition(topic, p) for p in range(3)], timeout=15)
        assert {tp.partition: tp.offset for tp in committed if tp.offset >= 0} == commits
        checker.subscribe([topic])
        rest = drain(checker, 300 - sum(commits.values()), timeout=30)
    finally:
        checker.close()
    # the group resumes exactly where it committed: together the two reads are all 300 once
    values = [int(m.key()) for m in first] + [int(m.key()) for m in rest]
    resumed = {(m.partition(), m.offset()) for m in rest}
    assert len(rest) == 300 - sum(commits.values())
    assert all(o >= commits.get(p, 0) for p, o in resumed)
    assert sorted(values) == list(range(300))

    everything = Consumer({"bootstrap.servers": bs, "group.id": unique("all"),
                           "auto.offset.reset": "earliest"})
    everything.subscribe([topic])
    try:
        all_msgs = drain(everything, 300, timeout=30)
    finally:
        everything.close()
    assert sorted(int(m.key()) for m in all_msgs) == list(range(300))
    assert all(m.value() == f"value-{int(m.key())}".encode() for m in all_msgs)
