"""A running broker compacts a `cleanup.policy=compact` topic in the background: older values of
a key disappear from the log, the latest value of every key stays readable."""
from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from tests.integration.broker._clients import create_topic, unique

pytestmark = pytest.mark.integration

KEYS, N = 4, 400


def _read(bs: str, topic: str) -> list[tuple[bytes, bytes]]:
    c = Consumer({"bootstrap.servers": bs, "group.id": unique("compaction-reader"),
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "enable.partition.eof": True})
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        msgs = []
        deadline = time.time() + 15
        while time.time() < deadline:
            msg = c.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    return msgs
                raise AssertionError(f"consumer error: {msg.error()}")
            msgs.append((msg.key(), msg.value()))
        raise AssertionError(f"did not reach the end of {topic} in 15 s")
    finally:
        c.close()


def test_compacted_topic_is_cleaned_while_the_broker_runs(pystreams_broker_factory) -> None:
    broker = pystreams_broker_factory(**{"log.cleaner.backoff.ms": 200})
    bs = broker.bootstrap_servers
    topic = unique("compacted")
    create_topic(bs, topic, 1, {"cleanup.policy": "compact", "segment.bytes": "4096",
                                "min.cleanable.dirty.ratio": "0.01"})
    p = Producer({"bootstrap.servers": bs, "linger.ms": 0, "batch.num.messages": 10})
    failed: list[str] = []
    for i in range(N):
        p.produce(topic, key=b"k%d" % (i % KEYS), value=b"v%d" % i,
                  on_delivery=lambda err, _msg: failed.append(str(err)) if err else None)
        p.poll(0)
    assert p.flush(30) == 0 and not failed, failed[:3]
    latest = {b"k%d" % (i % KEYS): b"v%d" % i for i in range(N)}

    deadline = time.time() + 20
    records = _read(bs, topic)
    while len(records) >= N and time.time() < deadline:
        time.sleep(0.5)
        records = _read(bs, topic)
    assert len(records) < N, "nothing was compacted within 20 s"
    last: dict[bytes, bytes] = {}
    for key, value in records:
        last[key] = value
    assert last == latest
