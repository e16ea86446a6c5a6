"""KafkaStreams.set_global_state_restore_listener on a real broker (both): a lost state dir is restored from the
changelog with on_restore_start(log start, end) / on_batch_restored / on_restore_end per changelog partition,
whose counts add up; a clean restart reports start == end and 0 restored; a listener that raises fails the stream
thread with Kafka's fatal StreamsException, which reaches the uncaught-exception handler."""
from __future__ import annotations

import threading
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from pystreams import StateRestoreListener
from pystreams.processor.errors import StreamsException
from pystreams.runtime import KafkaStreams, State, StreamThreadExceptionResponse
from tests.integration.runtime.helpers import (
    create_topics,
    produce_lines,
    random_lines,
    read_counts_until,
    unique,
    word_counts,
    wordcount_topology,
)

pytestmark = pytest.mark.integration

STORE = "word-counts"


class Recorder(StateRestoreListener):
    """Every call, in order (stream threads call it: a lock)."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.fail_on = fail_on
        self._lock = threading.Lock()

    def _record(self, *event: Any) -> None:
        with self._lock:
            self.events.append(event)
        if event[0] == self.fail_on:
            raise ValueError("the listener broke")

    def on_restore_start(self, tp, store, start, end):
        self._record("start", tuple(tp), store, start, end)

    def on_batch_restored(self, tp, store, batch_end, n):
        self._record("batch", tuple(tp), store, batch_end, n)

    def on_restore_end(self, tp, store, total):
        self._record("end", tuple(tp), store, total)

    def on_restore_suspended(self, tp, store, total):
        self._record("suspended", tuple(tp), store, total)


def _marks(bootstrap: str, topic: str, partitions: int) -> dict[tuple[str, int], tuple[int, int]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("probe")})
    try:
        return {(topic, p): consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
                for p in range(partitions)}
    finally:
        consumer.close()


def _run(topology: Any, config: dict[str, Any], listener: Recorder | None, cleanup: bool = False) -> None:
    streams = KafkaStreams(topology, config)
    if cleanup:
        streams.cleanup()
    if listener is not None:
        streams.set_global_state_restore_listener(listener)
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=60)
    finally:
        assert streams.close(60)


def test_restore_of_a_lost_state_dir_and_a_clean_restart_are_reported(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("rl"), unique("text"), unique("counts")
    create_topics(bootstrap, 2, source, sink)
    topology = wordcount_topology(source, sink, STORE)
    config = {"application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
              "commit.interval.ms": 200}
    lines = random_lines(7, 150)
    streams = KafkaStreams(topology, config)
    try:
        streams.start()
        produce_lines(bootstrap, source, lines)
        expected = word_counts(lines)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected
    finally:
        assert streams.close(60)
    changelog = f"{app_id}-{STORE}-changelog"
    marks = _marks(bootstrap, changelog, 2)

    lost = Recorder()
    _run(topology, config, lost, cleanup=True)  # the state dir is gone: restored from the changelogs
    for tp, (low, high) in marks.items():
        events = [e for e in lost.events if e[1] == tp]
        assert events[0] == ("start", tp, STORE, low, high)
        batches = [e for e in events if e[0] == "batch"]
        assert events[-1] == ("end", tp, STORE, sum(e[4] for e in batches))
        assert [e[0] for e in events] == ["start"] + ["batch"] * len(batches) + ["end"]
        assert batches and all(low <= e[3] < high for e in batches)
        assert [e[3] for e in batches] == sorted(e[3] for e in batches)
    totals = sum(e[3] for e in lost.events if e[0] == "end")
    assert len(expected) <= totals <= sum(high - low for low, high in marks.values())

    clean = Recorder()
    _run(topology, config, clean)  # clean restart: the checkpoints are at the ends
    assert sorted(clean.events) == sorted(
        event for tp, (_low, high) in marks.items()
        for event in (("start", tp, STORE, high, high), ("end", tp, STORE, 0)))


def test_a_raising_listener_fails_the_thread_with_a_fatal_streams_exception(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("rl-fail"), unique("text"), unique("counts")
    create_topics(bootstrap, 1, source, sink)
    topology = wordcount_topology(source, sink, STORE)
    config = {"application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
              "commit.interval.ms": 200}
    failures: list[BaseException] = []

    def handler(error: BaseException) -> StreamThreadExceptionResponse:
        failures.append(error)
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT

    streams = KafkaStreams(topology, config)
    streams.set_global_state_restore_listener(Recorder(fail_on="start"))  # the task's store registers at once
    streams.set_uncaught_exception_handler(handler)
    try:
        streams.start()
        assert streams.wait_for_state(State.ERROR, timeout=60)
    finally:
        streams.close(60)
    assert len(failures) == 1
    assert isinstance(failures[0], StreamsException)
    assert str(failures[0]) == (f"Fatal user code error in store restore listener for store {STORE}, partition "
                                f"{app_id}-{STORE}-changelog-0.")
    assert isinstance(failures[0].__cause__, ValueError)
    again = KafkaStreams(topology, config)  # the task's state dir was released: a new instance runs the task
    try:
        again.start()
        assert again.wait_for_state(State.RUNNING, timeout=60)
    finally:
        assert again.close(60)
