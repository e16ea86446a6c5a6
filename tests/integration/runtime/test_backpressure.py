"""buffered.records.per.partition on a real consumer, both brokers: a task held back by task idling does not
buffer its partition without bound (Kafka's StreamTask pauses a partition whose queue holds more than the bound
and resumes it once processing drained it), and once it runs every record is processed exactly once.

The task is a stream-table left join whose table partition is empty: with max.task.idle.ms it waits that long
(from when the empty partition is known to be caught up) before it processes the stream records, while the
consumer could fetch all of them. The stream partition's queue may pass the bound by at most one poll's records
(max.poll.records): the pause comes after the hand-over that filled it. The hand-over is wrapped to see each
queue's size after every poll."""
from __future__ import annotations

import time
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State
from pystreams.runtime import stream_thread as stream_thread_module
from tests.integration.runtime.helpers import create_topics, unique

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

N = 3000
BOUND = 200
POLL = 100  # max.poll.records: one poll's records
IDLE_MS = 3000
STRINGS = Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())


def _read(bootstrap: str, topic: str, expected: int, timeout: float = 60.0) -> list[tuple[str, str]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    out: list[tuple[str, str]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(out) < expected:
            for m in consumer.consume(1000, 0.3):
                if m.error() is None:
                    out.append((m.key().decode(), m.value().decode()))
        for m in consumer.consume(1000, 1.0):  # nothing more (a duplicate) shows up a moment later
            if m.error() is None:
                out.append((m.key().decode(), m.value().decode()))
    finally:
        consumer.close()
    return out


def test_a_held_back_task_pauses_its_full_partition_and_processes_everything_once(kafka_broker: Any,
                                                                                   tmp_path: Any,
                                                                                   monkeypatch: Any) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    stream, table, out = unique("bp-orders"), unique("bp-customers"), unique("bp-enriched")
    create_topics(bootstrap, 1, stream, table, out)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50})
    base = int(time.time() * 1000) - 60_000
    for i in range(N):
        producer.produce(stream, key=f"k{i}", value=f"s{i}", timestamp=base + i)
    assert producer.flush(30) == 0

    largest: dict[tuple[str, int], int] = {}  # each queue's largest size after a hand-over
    real_hand_over = stream_thread_module.hand_over

    def hand_over(messages: Any, by_partition: Any, max_buffered: int = -1) -> Any:
        full = real_hand_over(messages, by_partition, max_buffered)
        for tp, at in by_partition.items():
            largest[tp] = max(largest.get(tp, 0), at.task.buffered(*tp))
        return full

    monkeypatch.setattr(stream_thread_module, "hand_over", hand_over)
    builder = StreamsBuilder()
    customers = builder.table(table, STRINGS)
    (builder.stream(stream, STRINGS)
        .left_join(customers, lambda s, t: f"{s}|{t}")
        .to(out, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    app = KafkaStreams(builder.build(), {
        "application.id": unique("bp"), "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
        "commit.interval.ms": 100, "max.task.idle.ms": IDLE_MS, "buffered.records.per.partition": BOUND,
        "max.poll.records": POLL, "consumer.session.timeout.ms": 10000})
    try:
        app.start()
        got = _read(bootstrap, out, N, timeout=90)
        [thread] = app.threads
        backpressure = thread._backpressure
        assert app.state is State.RUNNING and app.errors == []
        paused_now = set(backpressure.paused)
    finally:
        assert app.close(60)
    # exactly once: every stream record joined once (nothing lost or doubled by the pauses and resumes)
    assert len(got) == N, f"{len(got)} results for {N} records"
    assert sorted(got) == sorted((f"k{i}", f"s{i}|None") for i in range(N))
    top = largest.get((stream, 0), 0)
    # the task was held back (the queue reached the bound) but never held more than one poll past it
    assert BOUND < top <= BOUND + POLL, f"the stream partition's queue held up to {top} records"
    assert backpressure.pauses >= 1 and backpressure.resumes >= 1
    assert paused_now == set(), f"partitions left paused after everything was processed: {paused_now}"


def _wait(condition: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.1)


def test_a_paused_partition_that_moves_away_and_back_is_fetched_again(kafka_broker: Any, tmp_path: Any) -> None:
    """librdkafka keeps a partition's pause across incremental_unassign/assign (measured), so a partition revoked
    while paused would stay paused when the rebalance gives it back. Instance A holds both tasks back (paused), B
    joins and takes one, B leaves and A gets it back: A must fetch and process it."""
    bootstrap = kafka_broker.bootstrap_servers
    stream, table, out = unique("bp2-orders"), unique("bp2-customers"), unique("bp2-enriched")
    create_topics(bootstrap, 2, stream, table, out)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50})
    base = int(time.time() * 1000) - 60_000
    n = 1000  # per partition
    for p in (0, 1):
        for i in range(n):
            producer.produce(stream, key=f"k{p}-{i}", value=f"s{i}", partition=p, timestamp=base + i)
    assert producer.flush(30) == 0
    app_id = unique("bp2")

    def instance(name: str) -> KafkaStreams:
        builder = StreamsBuilder()
        customers = builder.table(table, STRINGS)
        (builder.stream(stream, STRINGS)
            .left_join(customers, lambda s, t: f"{s}|{t}")
            .to(out, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
        return KafkaStreams(builder.build(), {
            "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path / name),
            "commit.interval.ms": 100, "max.task.idle.ms": 6000, "buffered.records.per.partition": BOUND,
            "max.poll.records": POLL, "consumer.session.timeout.ms": 10000})

    a, b = instance("a"), instance("b")
    try:
        a.start()
        [thread_a] = a.threads
        _wait(lambda: thread_a._backpressure is not None and len(thread_a._backpressure.paused) == 2,
              "instance A paused both stream partitions")
        b.start()
        [thread_b] = b.threads
        _wait(lambda: len(thread_b.tasks) == 1 and len(thread_a.tasks) == 1, "B took one of A's tasks")
        moved = next(iter(thread_b.tasks))
        assert b.close(60)
        _wait(lambda: moved in thread_a.tasks, "the task came back to A")
        got = _read(bootstrap, out, 2 * n, timeout=60)
        assert a.errors == [] and thread_a._backpressure.paused == set()
    finally:
        b.close(60)
        assert a.close(60)
    assert len(got) == 2 * n, f"{len(got)} results for {2 * n} records"
    assert sorted(got) == sorted((f"k{p}-{i}", f"s{i}|None") for p in (0, 1) for i in range(n))
