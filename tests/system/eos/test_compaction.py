"""Compaction end to end, the same assertions against Apache Kafka 4.1.1 and our broker: many
updates over few keys compact to the latest value per key (plus what sits in the active or
not-yet-cleanable segments), tombstones vanish after delete.retention.ms, and a consumer reading
during compaction always sees a valid log: increasing offsets, each record exactly what was
produced at that offset.

Size: PYSTREAMS_COMPACTION_UPDATES (default 1,000,000, the issue's size) over
PYSTREAMS_COMPACTION_KEYS (default 10,000); smaller values make a quick run."""
from __future__ import annotations

import os
import threading
import time

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from tests.integration.eos._eos import create_topic, unique

pytestmark = pytest.mark.system

UPDATES = int(os.environ.get("PYSTREAMS_COMPACTION_UPDATES", "1000000"))
KEYS = int(os.environ.get("PYSTREAMS_COMPACTION_KEYS", "10000"))
DELETED = KEYS // 10
TOPIC_CONFIG = {"cleanup.policy": "compact", "segment.bytes": "1048576",
                "min.cleanable.dirty.ratio": "0.01", "delete.retention.ms": "100",
                "min.compaction.lag.ms": "0", "compression.type": "producer"}


def _scan(bs: str, topic: str) -> list[tuple[int, bytes, bytes | None]]:
    c = Consumer({"bootstrap.servers": bs, "group.id": unique("scan"),
                  "enable.partition.eof": True, "enable.auto.commit": False,
                  "fetch.max.bytes": 8 << 20, "max.partition.fetch.bytes": 8 << 20})
    out = []
    try:
        c.assign([TopicPartition(topic, 0, 0)])  # 0: reset to the log start if compacted away
        deadline = time.time() + 60
        while time.time() < deadline:
            for m in c.consume(10000, 0.5):
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        return out
                    raise AssertionError(m.error())
                out.append((m.offset(), m.key(), m.value()))
        raise AssertionError("scan did not reach the end of the partition")
    finally:
        c.close()


def _produce(p: Producer, topic: str, key: bytes, value: bytes | None, cb) -> None:
    while True:
        try:
            p.produce(topic, key=key, value=value, on_delivery=cb)
            return
        except BufferError:  # the client's queue is full: let deliveries drain
            p.poll(0.2)


def test_many_updates_compact_to_latest_per_key(kafka_broker):
    bs = kafka_broker.bootstrap_servers
    topic = unique("compact")
    create_topic(bs, topic, 1, TOPIC_CONFIG)
    produced: dict[int, tuple[bytes, bytes | None]] = {}
    latest: dict[bytes, bytes | None] = {}

    def on_delivery(err, msg):
        assert err is None, err
        produced[msg.offset()] = (msg.key(), msg.value())

    p = Producer({"bootstrap.servers": bs, "linger.ms": 20, "compression.type": "none",
                  "batch.num.messages": 2000})
    for i in range(UPDATES):
        key, value = b"key-%06d" % (i % KEYS), b"value-%09d" % i
        latest[key] = value
        _produce(p, topic, key, value, on_delivery)
    for k in range(DELETED):  # tombstones for the first tenth of the keys
        key = b"key-%06d" % k
        latest[key] = None
        _produce(p, topic, key, None, on_delivery)
    written = [UPDATES]

    def more_updates(n: int) -> None:
        """Updates of the live keys: the tombstones' segment rolls, and the log gets dirty
        again (Kafka removes a tombstone in a later pass than the one that set its horizon)."""
        for i in range(written[0], written[0] + n):
            k = DELETED + i % (KEYS - DELETED)
            key, value = b"key-%06d" % k, b"value-%09d" % i
            latest[key] = value
            _produce(p, topic, key, value, on_delivery)
        written[0] += n
        assert p.flush(120) == 0
    more_updates(40000)

    bad: list[str] = []
    stop = threading.Event()

    def reader() -> None:  # reads while the cleaner works: always a valid, ordered log
        while not stop.is_set():
            seen = _scan(bs, topic)
            offsets = [o for o, _, _ in seen]
            if offsets != sorted(set(offsets)):
                bad.append("offsets not increasing")
            for o, k, v in seen:
                # (a record newer than its delivery report is not in `produced` yet)
                if o in produced and produced[o] != (k, v):
                    bad.append(f"offset {o}: {k!r}={v!r} was never produced there")
                    break

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        deadline = time.time() + 150
        while True:
            seen = _scan(bs, topic)
            total = len(produced)
            keys_seen = [k for _, k, _ in seen]
            tombstones = [k for _, k, v in seen if v is None]
            compacted = len(seen) < total // 4 and not tombstones
            if compacted or time.time() > deadline:
                break
            time.sleep(2)
            more_updates(2000)
    finally:
        stop.set()
        t.join(90)
    assert not bad, bad[:5]
    assert compacted, f"{len(seen)} of {total} records and {len(tombstones)} tombstones remain"
    final: dict[bytes, bytes | None] = {}
    for _, k, v in seen:
        final[k] = v
    assert final == {k: v for k, v in latest.items() if v is not None}  # deleted keys gone
    # below the uncleaned tail every key appears once: duplicates only in the newest records
    assert len(keys_seen) - len(set(keys_seen)) < total // 4
