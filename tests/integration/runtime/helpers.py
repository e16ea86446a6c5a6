"""Shared by the runtime integration tests: topics, a line producer, an output reader, the word-count model."""
from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

WORDS = ["kafka", "streams", "python", "broker", "topic", "partition", "offset", "commit", "state", "store",
         "changelog", "task"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_topics(bootstrap: str, partitions: int, *topics: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for fut in admin.create_topics([NewTopic(t, partitions, 1) for t in topics]).values():
        fut.result(30)


def random_lines(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6))) for _ in range(n)]


def word_counts(lines: Iterable[str]) -> dict[str, int]:
    return dict(Counter(w for line in lines for w in line.lower().split()))


def produce_lines(bootstrap: str, topic: str, lines: list[str], start: int = 0) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i, line in enumerate(lines, start):
        producer.produce(topic, key=f"line-{i}".encode(), value=line.encode())
    assert producer.flush(30) == 0, "not every input line was acknowledged"


def read_counts_until(bootstrap: str, topic: str, done: Callable[[dict[str, int]], bool], timeout: float = 60.0,
                      isolation: str = "read_uncommitted") -> dict[str, int]:
    """Latest count per word from the output topic (String key, Long value), read until done(counts)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": isolation})
    consumer.subscribe([topic])
    counts: dict[str, int] = {}
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for m in consumer.consume(1000, 0.3):
                if m.error() is None:
                    counts[m.key().decode()] = int.from_bytes(m.value(), "big", signed=True)
            if done(counts):
                break
    finally:
        consumer.close()
    return counts


def read_all(bootstrap: str, topic: str, expected: int, timeout: float = 60.0,
             isolation: str = "read_uncommitted") -> list[tuple[Any, ...]]:
    """(key, value) of every record of topic, reading until at least `expected` arrived or the timeout."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": isolation})
    consumer.subscribe([topic])
    out: list[tuple[Any, ...]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(out) < expected:
            for m in consumer.consume(1000, 0.3):
                if m.error() is None:
                    out.append((m.key(), m.value()))
    finally:
        consumer.close()
    return out


def read_to_end(bootstrap: str, topic: str, timeout: float = 60.0,
                isolation: str = "read_committed") -> list[tuple[Any, ...]]:
    """(key, value) of every record of topic up to the end offsets it has now (every partition read until its
    position reaches the high watermark, i.e. past the last transaction marker), or what arrived by the timeout."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"),
                         "enable.auto.commit": False, "isolation.level": isolation})
    out: list[tuple[Any, ...]] = []
    deadline = time.monotonic() + timeout
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        tps = [TopicPartition(topic, p) for p in sorted(meta.partitions)]
        ends = {tp.partition: consumer.get_watermark_offsets(tp, timeout=10, cached=False) for tp in tps}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        pending = {p for p, (low, high) in ends.items() if high > low}
        while pending and time.monotonic() < deadline:
            for m in consumer.consume(1000, 0.3):
                if m.error() is None:
                    out.append((m.key(), m.value()))
            pending = {tp.partition for tp in consumer.position([TopicPartition(topic, p) for p in pending])
                       if tp.offset < ends[tp.partition][1]}
    finally:
        consumer.close()
    return out


def read_count_updates(bootstrap: str, topic: str, expected: int, timeout: float = 120.0, settle: float = 2.0,
                       isolation: str = "read_committed") -> dict[str, list[int]]:
    """Every update of a count output topic (String key, Long value), per key in offset order: read until
    `expected` updates arrived (or the timeout), then, after `settle` seconds in which anything late (a zombie's
    commit, a duplicate) can land, read again from the start to the end offsets. The exactly-once check on it is
    `== {key: [1, 2, ..., n]}` (with the record cache off, every update is output)."""
    read_all(bootstrap, topic, expected, timeout=timeout, isolation=isolation)
    time.sleep(settle)
    per_key: dict[str, list[int]] = {}
    for key, value in read_to_end(bootstrap, topic, timeout=max(30.0, expected / 5000), isolation=isolation):
        per_key.setdefault(key.decode(), []).append(int.from_bytes(value, "big", signed=True))
    return per_key


def wordcount_topology(input_topic: str, output_topic: str, store: str = "word-counts") -> Any:
    from pystreams import (
        Consumed,
        Grouped,
        Materialized,
        Produced,
        Serdes,
        StreamsBuilder,
    )

    builder = StreamsBuilder()
    (builder.stream(input_topic, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .flat_map_values(lambda line: line.lower().split())
        .group_by(lambda _k, word: word, Grouped(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .count(Materialized(name=store))
        .to_stream()
        .to(output_topic, Produced(key_serde=Serdes.String(), value_serde=Serdes.Long())))
    return builder.build()
