"""A group of three confluent-kafka consumers reads a 6-partition topic exactly once with
commits; one leaves, the others take over its partitions from the committed offsets."""
from __future__ import annotations

import threading
import time

import pytest
from confluent_kafka import Consumer, Producer

from tests.integration.broker._clients import create_topic, unique

pytestmark = pytest.mark.integration

RECORDS = 3000


class Member(threading.Thread):
    """One consumer that commits every record it processed (synchronously, per message batch)."""

    def __init__(self, bs: str, group: str, topic: str, seen: list, lock: threading.Lock):
        super().__init__(daemon=True)
        self.consumer = Consumer({"bootstrap.servers": bs, "group.id": group,
                                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                                  "session.timeout.ms": 10000, "heartbeat.interval.ms": 500})
        self.consumer.subscribe([topic])
        self.seen, self.lock = seen, lock
        self.stop = threading.Event()
        self.errors: list = []

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                msgs = self.consumer.consume(200, 0.3)
                good = [m for m in msgs if not m.error()]
                self.errors += [m.error() for m in msgs if m.error()]
                if good:
                    with self.lock:
                        self.seen.extend((m.partition(), m.offset()) for m in good)
                    self.consumer.commit(asynchronous=False)
        finally:
            self.consumer.close()  # LeaveGroup


def _produce(bs: str, topic: str, start: int, count: int) -> None:
    producer = Producer({"bootstrap.servers": bs, "linger.ms": 5, "compression.type": "lz4"})
    for i in range(start, start + count):
        producer.produce(topic, key=f"k{i}".encode(), value=f"v{i}".encode())
    assert producer.flush(15) == 0


def _wait_for(cond, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


def test_group_exactly_once_then_member_leaves(pystreams_broker):
    bs = pystreams_broker.bootstrap_servers
    topic, group = unique("grp-topic"), unique("grp")
    create_topic(bs, topic, partitions=6)
    _produce(bs, topic, 0, RECORDS)
    seen: list = []
    lock = threading.Lock()
    members = [Member(bs, group, topic, seen, lock) for _ in range(3)]
    for m in members:
        m.start()
    assert _wait_for(lambda: len(seen) >= RECORDS, 60), f"only {len(seen)} records consumed"
    time.sleep(1.0)
    with lock:
        first = list(seen)
    assert len(first) == RECORDS and len(set(first)) == RECORDS  # every record exactly once
    assert {p for p, _ in first} == set(range(6))

    members[0].stop.set()
    members[0].join(20)
    _produce(bs, topic, RECORDS, RECORDS)
    assert _wait_for(lambda: len(seen) >= 2 * RECORDS, 60), f"{len(seen)} after the leave"
    time.sleep(1.0)
    for m in members[1:]:
        m.stop.set()
        m.join(20)
    assert not any(m.errors for m in members), [m.errors for m in members]
    # committed offsets were honoured: the survivors did not re-read the first batch
    assert len(seen) == 2 * RECORDS and len(set(seen)) == 2 * RECORDS

    # the group's committed offsets equal the end of every partition
    checker = Consumer({"bootstrap.servers": bs, "group.id": group})
    try:
        from confluent_kafka import TopicPartition
        committed = checker.committed([TopicPartition(topic, p) for p in range(6)], timeout=10)
        ends = [checker.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in range(6)]
    finally:
        checker.close()
    assert [tp.offset for tp in committed] == ends
    assert sum(ends) == 2 * RECORDS
