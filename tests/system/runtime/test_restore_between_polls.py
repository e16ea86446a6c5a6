"""Changelog restore between polls (pystreams.assignor=streams): an instance that joins with an empty state dir
restores its stateful task while its stateless task already runs, and a third member's rebalance completes
while that restore is still going on (Kafka Streams' RESTORING tasks / state updater)."""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from pystreams.runtime import KafkaStreams, State
from pystreams.runtime.checkpoint import read_checkpoint
from tests.integration.runtime.helpers import create_topics, unique

pytestmark = [pytest.mark.system, pytest.mark.slow]

KEYS = 240_000  # distinct keys: one changelog record each, so a restore takes seconds


def _topology(counted: str, counts: str, pings: str, pongs: str) -> Any:
    from pystreams import Consumed, Materialized, Produced, Serdes, StreamsBuilder

    builder = StreamsBuilder()
    (builder.stream(counted, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .group_by_key()
        .count(Materialized(name="restored-counts"))
        .to_stream()
        .to(counts, Produced(key_serde=Serdes.String(), value_serde=Serdes.Long())))
    (builder.stream(pings, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .map_values(lambda v: f"pong-{v}")
        .to(pongs, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    return builder.build()


def _produce_keys(bootstrap: str, topic: str, keys: range) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.num.messages": 10000})
    for i in keys:
        while True:
            try:
                producer.produce(topic, key=f"k{i}".encode(), value=b"x", partition=i % 2)
                break
            except BufferError:  # librdkafka's queue is full: let deliveries drain
                producer.poll(0.1)
        if i % 10_000 == 0:
            producer.poll(0)
    assert producer.flush(60) == 0


def _changelog_records(bootstrap: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("wm")})
    try:
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in (0, 1))
    finally:
        consumer.close()


class _Pings:
    """Sends a ping to each input partition every 20 ms and records when each pong arrives."""

    def __init__(self, bootstrap: str, pings: str, pongs: str) -> None:
        self.bootstrap, self.pings, self.pongs = bootstrap, pings, pongs
        self.sent = 0
        self.arrivals: list[tuple[int, float, str]] = []  # (input partition, arrival time, value)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._send, daemon=True),
                         threading.Thread(target=self._read, daemon=True)]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            if t.is_alive():
                t.join(90)

    def _send(self) -> None:
        producer = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 0})
        while not self._stop.is_set():
            for p in (0, 1):
                producer.produce(self.pings, key=f"p{self.sent}".encode(), value=f"{p}:{self.sent}".encode(),
                                 partition=p)
                self.sent += 1
            producer.poll(0)
            time.sleep(0.02)
        producer.flush(30)

    def _read(self) -> None:
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": unique("pongs"),
                             "auto.offset.reset": "earliest", "enable.auto.commit": False})
        consumer.subscribe([self.pongs])
        give_up = None
        try:  # after stop(): until every ping's pong arrived, for up to 60 s
            while not self._stop.is_set() or len({v for _, _, v in self.arrivals}) < self.sent:
                if self._stop.is_set():
                    give_up = give_up or time.monotonic() + 60
                    if time.monotonic() > give_up:
                        break
                for m in consumer.consume(500, 0.1):
                    if m.error() is None:
                        value = m.value().decode()  # pong-<partition>:<seq>
                        self.arrivals.append((int(value[5:].split(":")[0]), time.monotonic(), value))
        finally:
            consumer.close()


def _restoring(app: KafkaStreams) -> set[Any]:
    return {t for th in app.threads if th._restorer is not None for t in th._restorer.restoring}


def _running(app: KafkaStreams) -> set[Any]:
    return {t for th in app.threads for t in th.tasks}


class _Setup:
    """Topics, configs and the first instance with every key counted and in the changelog."""

    def __init__(self, bootstrap: str, tmp_path: Any) -> None:
        self.bootstrap, self.tmp_path = bootstrap, tmp_path
        self.app_id = unique("restore")
        self.counted, self.counts, self.pings, self.pongs = (unique("keys"), unique("counts"), unique("pings"),
                                                             unique("pongs"))
        create_topics(bootstrap, 2, self.counted, self.counts, self.pings, self.pongs)
        self.changelog = f"{self.app_id}-restored-counts-changelog"
        self.apps: list[KafkaStreams] = []

    def start(self, i: int) -> KafkaStreams:
        app = KafkaStreams(_topology(self.counted, self.counts, self.pings, self.pongs), {
            "application.id": self.app_id, "bootstrap.servers": self.bootstrap,
            "state.dir": str(self.tmp_path / f"s{i}"),
            "commit.interval.ms": 200, "consumer.session.timeout.ms": 10000, "pystreams.assignor": "streams",
            "consumer.heartbeat.interval.ms": 300,  # members hear of a rebalance quickly
            # every client counts as caught up: the joining one gets a stateful task to restore at once
            # (instead of a warm-up replica)
            "acceptable.recovery.lag": 1_000_000_000,
            # a restore that takes seconds, not 0.2 s: Java's default batch size for the changelog, and restore
            # fetches of at most 64 KB that the broker holds for 100 ms (fetch.min.bytes never reached)
            "producer.batch.size": 16384, "restore.consumer.max.partition.fetch.bytes": 65536,
            "restore.consumer.fetch.min.bytes": 100_000_000, "restore.consumer.fetch.wait.max.ms": 100})
        app.start()
        self.apps.append(app)
        return app

    def first_instance_with_state(self) -> KafkaStreams:
        a = self.start(0)
        _produce_keys(self.bootstrap, self.counted, range(KEYS))
        deadline = time.monotonic() + 180
        while _changelog_records(self.bootstrap, self.changelog) < KEYS:  # a processed and committed every key
            assert time.monotonic() < deadline and a.state is not State.ERROR, a.state
            time.sleep(0.5)
        return a

    def wait_running(self, apps: list[KafkaStreams]) -> None:
        deadline = time.monotonic() + 90
        while not all(app.state is State.RUNNING for app in apps):
            assert time.monotonic() < deadline, [app.state for app in apps]
            time.sleep(0.1)

    def assert_final_counts(self) -> None:
        """k0..k1999 counted once more: every key's last count is exact."""
        _produce_keys(self.bootstrap, self.counted, range(2_000))
        expected = {f"k{i}": (2 if i < 2_000 else 1) for i in range(KEYS)}
        got: dict[str, int] = {}
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": unique("reader"),
                             "auto.offset.reset": "earliest", "enable.auto.commit": False})
        consumer.subscribe([self.counts])
        deadline = time.monotonic() + 120
        try:
            while got != expected and time.monotonic() < deadline:
                for m in consumer.consume(10_000, 0.3):
                    if m.error() is None:
                        got[m.key().decode()] = int.from_bytes(m.value(), "big", signed=True)
        finally:
            consumer.close()
        assert got == expected, {k: (v, got.get(k)) for k, v in expected.items() if got.get(k) != v}


def test_a_joining_instance_restores_between_polls(kafka_broker, tmp_path):
    setup = _Setup(kafka_broker.bootstrap_servers, tmp_path)
    pinger = _Pings(setup.bootstrap, setup.pings, setup.pongs)
    try:
        setup.first_instance_with_state()
        pinger.start()
        b = setup.start(1)  # empty state dir
        deadline = time.monotonic() + 90
        while not _restoring(b):
            assert time.monotonic() < deadline, ("b never restored", _running(b))
            time.sleep(0.01)
        restore_seen = time.monotonic()
        # the thread creates the assignment's tasks one after the other (the restoring count task first, by
        # TaskId order), so the stateless one may start a moment after the restore was first seen
        b_pings: set[Any] = set()
        while not b_pings and _restoring(b) and time.monotonic() < restore_seen + 10:
            b_pings = {t for t in _running(b) if t.subtopology == 1}
            time.sleep(0.01)
        assert b_pings and _restoring(b), ("b runs no stateless task while restoring", _running(b), _restoring(b))
        assert b.state is State.REBALANCING

        c = setup.start(2)  # a further rebalance while b restores
        while not all(th.assigned_once for th in c.threads):
            assert time.monotonic() < deadline, "c got no assignment"
            time.sleep(0.01)
        c_assigned = time.monotonic()
        assert _restoring(b), "b's restore ended before the third member's rebalance completed: too little state"
        while _restoring(b):
            assert time.monotonic() < deadline, "b's restore did not end"
            time.sleep(0.01)
        restore_end = time.monotonic()
        assert b.metrics()["restore-total"] >= KEYS // 4, b.metrics()
        # b's stateless task kept processing while b restored (pongs of its partitions arrived in the window)
        window = [(p, t) for p, t, _ in pinger.arrivals if restore_seen + 0.5 <= t <= restore_end]
        assert restore_end - restore_seen >= 1.0, restore_end - restore_seen
        for task in b_pings:
            assert any(p == task.partition for p, _ in window), (task, restore_seen, restore_end, len(window))
        assert c_assigned < restore_end

        setup.wait_running(setup.apps)
        pinger.stop()
        assert {v for _, _, v in pinger.arrivals} == {f"pong-{i % 2}:{i}" for i in range(pinger.sent)}
        setup.assert_final_counts()
    finally:
        pinger.stop()
        for app in setup.apps:
            app.close(30)


def test_an_instance_closed_while_restoring_checkpoints_what_it_restored_and_resumes_there(kafka_broker, tmp_path):
    setup = _Setup(kafka_broker.bootstrap_servers, tmp_path)
    try:
        a = setup.first_instance_with_state()
        b = setup.start(1)
        deadline = time.monotonic() + 90
        while not _restoring(b) or b.metrics()["restore-total"] < 5_000:
            assert time.monotonic() < deadline, ("b never restored", _running(b))
            time.sleep(0.01)
        (task,) = _restoring(b)
        assert b.close(60)  # clean close of a RESTORING task: at_least_once keeps what it restored
        first = int(b.metrics()["restore-total"])
        setup.apps.remove(b)
        checkpoint = read_checkpoint(str(tmp_path / "s1" / setup.app_id / str(task)))
        tp = (setup.changelog, task.partition)
        assert set(checkpoint) == {tp}, checkpoint
        end = KEYS // 2
        assert first - 1 <= checkpoint[tp] < end - 1, (checkpoint, first)  # part of the changelog, not all of it
        setup.wait_running([a])
        b = setup.start(1)  # the same state dir: the restore continues after the checkpoint
        # cooperative rebalancing takes two rounds here (a revokes, then b gets the task), and between them b
        # is RUNNING with no tasks, as in Kafka Streams: wait for the task itself, bounded
        deadline = time.monotonic() + 90
        while task not in _running(b) or not all(app.state is State.RUNNING for app in (a, b)):
            assert time.monotonic() < deadline, (task, _running(b), _running(a), a.state, b.state)  # where its state is
            time.sleep(0.1)
        assert b.metrics()["restore-total"] == end - checkpoint[tp] - 1, (b.metrics(), checkpoint, end)
        setup.assert_final_counts()
    finally:
        for app in setup.apps:
            app.close(30)
