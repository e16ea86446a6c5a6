"""Shared by the runtime integration tests: topics (created, re-created, truncated, their end offsets), line and
key/value producers, an output reader, the word-count model, the global store app (customers and orders), and the
pieces of a ChangelogReader restore run against a real broker."""
from __future__ import annotations

import random
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

WORDS = ["kafka", "streams", "python", "broker", "topic", "partition", "offset", "commit", "state", "store",
         "changelog", "task"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def thread_errors(streams: Any) -> list[BaseException]:
    """The errors the app's stream threads die of, in order: an uncaught-exception handler that records each one and
    shuts the client down (Kafka's SHUTDOWN_CLIENT), set on `streams` before start()."""
    from pystreams.runtime import StreamThreadExceptionResponse

    errors: list[BaseException] = []

    def handler(error: BaseException) -> StreamThreadExceptionResponse:
        errors.append(error)
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT

    streams.set_uncaught_exception_handler(handler)
    return errors


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for application.server / metrics endpoints started right after)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_topics(bootstrap: str, partitions: int, *topics: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for fut in admin.create_topics([NewTopic(t, partitions, 1) for t in topics]).values():
        fut.result(30)


def create_after_deletion(bootstrap: str, topic: str, partitions: int = 1, timeout: float = 30.0) -> None:
    """Create `topic` again after a DeleteTopics: retried while the broker is still finishing the deletion."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            create_topics(bootstrap, partitions, topic)
            return
        except Exception as e:  # noqa: BLE001 - the deletion is still in progress
            assert time.monotonic() < deadline, f"{topic} could not be re-created: {e}"
            time.sleep(0.3)


def recreate_topic(bootstrap: str, topic: str, partitions: int = 1) -> None:
    """Delete `topic` and create it again, empty (a changelog or global topic that no longer matches a checkpoint)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept alive until the result: its handle serves it
    admin.delete_topics([topic])[topic].result(30)
    create_after_deletion(bootstrap, topic, partitions)


def delete_records(bootstrap: str, topic: str, before: int, partition: int = 0) -> None:
    """DeleteRecords below offset `before` of one partition; the new log start is checked, so a broker that
    ignored the request fails here rather than later in the test that relies on it."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.delete_records([TopicPartition(topic, partition, before)], request_timeout=30).values():
        assert future.result(30).low_watermark == before


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


def committed_offset(bootstrap: str, group: str, topic: str, want: int, timeout: float = 30) -> int:
    """Partition 0's committed offset for `group`, polled until it reaches `want` or the timeout (then as it is)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        deadline = time.monotonic() + timeout
        while True:
            offset = consumer.committed([TopicPartition(topic, 0)], timeout=10)[0].offset
            if offset >= want or time.monotonic() > deadline:
                return int(offset)
            time.sleep(0.2)
    finally:
        consumer.close()


def read_counts_until(bootstrap: str, topic: str, done: Callable[[dict[str, int]], bool], timeout: float = 60.0,
                      isolation: str = "read_uncommitted") -> dict[str, int]:
    """Latest count per word from the output topic (String key, Long value), read until done(counts)."""
    return read_latest_until(bootstrap, topic, done, timeout, isolation,
                             lambda value: int.from_bytes(value, "big", signed=True))


def read_latest_until(bootstrap: str, topic: str, done: Callable[[dict[str, Any]], bool], timeout: float = 60.0,
                      isolation: str = "read_committed", value: Callable[[bytes], Any] = bytes.decode
                      ) -> dict[str, Any]:
    """Latest value per (String) key of a topic, read from the beginning until done(latest) or the timeout."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": isolation})
    consumer.subscribe([topic])
    latest: dict[str, Any] = {}
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for m in consumer.consume(1000, 0.3):
                if m.error() is None:
                    latest[m.key().decode()] = value(m.value())
            if done(latest):
                break
    finally:
        consumer.close()
    return latest


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


def global_customers_topology(customers: str, orders: str) -> Any:
    """A Topology with the global store "customers" (customer id -> name, Strings, no changelog: the topic is its
    source) kept by a processor that puts every record of `customers`, and a source "orders-source" on `orders`
    (String serdes) for the tests' processors to read the store from."""
    from pystreams import Serdes
    from tests.unit.runtime.global_support import customers_topology

    topology = customers_topology(customers)
    topology.add_source("orders-source", orders, key_serde=Serdes.String(), value_serde=Serdes.String())
    return topology


def produce_pairs(bootstrap: str, topic: str, pairs: Iterable[tuple[str, str]]) -> None:
    """Every (key, value) pair, UTF-8 encoded, acknowledged."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for n, (key, value) in enumerate(pairs, 1):
        producer.produce(topic, key=key.encode(), value=value.encode())
        if n % 1000 == 0:
            producer.poll(0)  # serve the delivery reports of a long run
    assert producer.flush(30) == 0, f"not every record to {topic} was acknowledged"


def produce_customers(bootstrap: str, topic: str, ids: Iterable[int], prefix: str = "c") -> None:
    """Customers "<prefix><i>" -> "name-<i>" for the global store of global_customers_topology."""
    produce_pairs(bootstrap, topic, ((f"{prefix}{i}", f"name-{i}") for i in ids))


def customers_and_orders(bootstrap: str, partitions: int, customers: int, *more_topics: str) -> tuple[str, str]:
    """New topics (customers, orders) for global_customers_topology, and more_topics, with `partitions` each;
    customers c0 .. c<customers - 1> produced."""
    names = unique("customers"), unique("orders")
    create_topics(bootstrap, partitions, *names, *more_topics)
    produce_customers(bootstrap, names[0], range(customers))
    return names


def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[tuple[str, int], int]:
    """(topic, partition) -> high watermark, for partitions 0 .. partitions - 1."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("probe")})
    try:
        return {(topic, p): consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in range(partitions)}
    finally:
        consumer.close()


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


def served_instances(make_topology: Callable[[], Any], count: int, app_id: str, bootstrap: str, tmp_path: Any,
                     **config: Any) -> tuple[list[Any], list[Any]]:
    """(hosts, apps): `count` KafkaStreams of app_id (not started), each with its own state dir (tmp_path / s<i>) and
    an application.server on a free port; 100 ms commits and 10 s sessions, then `config`."""
    from pystreams.runtime import KafkaStreams
    from pystreams.runtime.queries import HostInfo

    hosts = [HostInfo("127.0.0.1", free_port()) for _ in range(count)]
    apps = [KafkaStreams(make_topology(), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path / f"s{i}"),
        "commit.interval.ms": 100, "consumer.session.timeout.ms": 10000, **config, "application.server": str(host)})
        for i, host in enumerate(hosts)]
    return hosts, apps


# ---- a ChangelogReader restore against a real broker (tests of changelogs changing under a restore)

#: restore consumer overrides for small fetches, so that most of a changelog is still on the broker when a test
#: changes it (deletes records, deletes or re-creates the topic) under a running restore
SMALL_FETCHES = {"queued.min.messages": 1, "queued.max.messages.kbytes": 1, "message.max.bytes": 2048,
                 "fetch.max.bytes": 2048, "max.partition.fetch.bytes": 1024}


def fill_changelog(bootstrap: str, topic: str, records: int = 2000, value_size: int = 1000) -> None:
    """`records` records (keys k0, k1, ...; values of value_size bytes) into partition 0, in small batches."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "batch.num.messages": 10})
    for i in range(records):
        producer.produce(topic, key=b"k%d" % i, value=b"v" * value_size, partition=0)
    assert producer.flush(30) == 0, "not every changelog record was acknowledged"


class RecordingStore:
    """A task's stores as ChangelogReader sees them: records the offset of every record restored into them."""

    def __init__(self) -> None:
        self.restored: list[int] = []

    def checkpointed_offsets(self) -> dict[str, int]:
        return {}

    def changelog_topics(self) -> dict[str, str]:
        return {}

    def restore(self, store: str, records: list[tuple[Any, ...]]) -> None:
        self.restored.extend(r[3] for r in records)


def restoring_task(task_dir: str, changelog: str) -> SimpleNamespace:
    """Active task 0_0 as ChangelogReader.add() takes it: store "s" restored from partition 0 of `changelog` into
    a RecordingStore (at.task), which wipe_and_revive() replaces with a fresh one (a corrupted task)."""
    from pystreams.processor.task_id import TaskId

    tp = (changelog, 0)
    at = SimpleNamespace(id=TaskId(0, 0), task=RecordingStore(), task_dir=task_dir, persistent_changelogs={tp: "s"},
                         changelog_next={}, checkpointed={}, collector=None, restored_records=0,
                         changelog_partitions=lambda: {tp: "s"})

    def wipe_and_revive() -> None:
        at.task = RecordingStore()

    at.wipe_and_revive = wipe_and_revive
    return at


def restore_until_started(reader: Any, store: RecordingStore, timeout: float = 30.0) -> None:
    """Run reader.restore() until `store` received its first records: the restore is under way."""
    deadline = time.monotonic() + timeout
    while not store.restored:
        assert time.monotonic() < deadline, ("the restore never started", reader.restoring)
        reader.restore(10, 0.2)
