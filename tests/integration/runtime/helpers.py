"""Shared by the runtime integration tests: topics, a line producer, an output reader, the word-count model."""
from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from typing import Any, Callable, Iterable

from confluent_kafka import Consumer, Producer
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


def wordcount_topology(input_topic: str, output_topic: str, store: str = "word-counts") -> Any:
    from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder

    builder = StreamsBuilder()
    (builder.stream(input_topic, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .flat_map_values(lambda line: line.lower().split())
        .group_by(lambda _k, word: word, Grouped(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .count(Materialized(name=store))
        .to_stream()
        .to(output_topic, Produced(key_serde=Serdes.String(), value_serde=Serdes.Long())))
    return builder.build()
