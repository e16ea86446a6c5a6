"""add_stream_thread() / remove_stream_thread() on a running word count, on both brokers: an added thread takes
half of the tasks over, a removed one leaves the group and its tasks move to the thread left; the counts stay
complete and exact through both moves, and metadata_for_local_threads() says who runs what."""
from __future__ import annotations

import time

import pytest

from pystreams.runtime import KafkaStreams, State
from pystreams.runtime.thread_admin import CloseOptions
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

MIB = 1024 * 1024
ALL_TASKS = {"0_0", "0_1", "1_0", "1_1"}  # word count over 2 partitions: source and repartitioned sub-topologies


def _tasks_by_thread(streams: KafkaStreams) -> dict[str, set[str]]:
    return {m.thread_name.rsplit("-", 1)[1]: {str(t.task_id) for t in m.active_tasks}
            for m in streams.metadata_for_local_threads()}


def _wait_tasks(streams: KafkaStreams, want: dict[str, int], timeout: float = 60) -> dict[str, set[str]]:
    """Until each named thread index runs `want[index]` tasks, together all of them, and the client is RUNNING."""
    deadline = time.monotonic() + timeout
    while True:
        held = _tasks_by_thread(streams)
        done = ({k: len(v) for k, v in held.items()} == want and set().union(*held.values()) == ALL_TASKS
                and streams.state is State.RUNNING)
        if done:
            return held
        assert time.monotonic() < deadline, (held, want, streams.state)
        time.sleep(0.1)


def _wait_caches(streams: KafkaStreams, want: list[int], timeout: float = 10) -> None:
    """Until the threads' record caches have these budgets (a thread may apply a resize in its own loop)."""
    deadline = time.monotonic() + timeout
    while [t._cache.max_bytes for t in streams.threads] != want:
        assert time.monotonic() < deadline, [t._cache.max_bytes for t in streams.threads]
        time.sleep(0.05)


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once_v2"])
def test_threads_added_and_removed_at_run_time_share_the_tasks(kafka_broker, tmp_path, guarantee):
    """Under exactly_once_v2 a reused index is a reused transactional.id (<app>-<process id>-<index>): the new
    thread's producer must start cleanly after the removed one's."""
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("text"), unique("counts")
    create_topics(bootstrap, 2, source, sink)
    batches = [random_lines(seed, 150) for seed in (1, 2, 3)]
    config = {"application.id": unique("threads"), "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
              "commit.interval.ms": 100, "client.id": "scaler", "processing.guarantee": guarantee}
    isolation = "read_committed" if guarantee == "exactly_once_v2" else "read_uncommitted"
    streams = KafkaStreams(wordcount_topology(source, sink), config)
    try:
        streams.start()
        produce_lines(bootstrap, source, batches[0])
        expected = word_counts(batches[0])
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60,
                                 isolation=isolation) == expected
        _wait_tasks(streams, {"1": 4})

        assert streams.add_stream_thread() == "scaler-StreamThread-2"
        held = _wait_tasks(streams, {"1": 2, "2": 2})  # the new member took half of the tasks over
        assert {m.thread_state for m in streams.metadata_for_local_threads()} == {"RUNNING"}
        _wait_caches(streams, [5 * MIB, 5 * MIB])  # statestore.cache.max.bytes (10 MiB) split over two threads
        produce_lines(bootstrap, source, batches[1], start=1000)
        expected = word_counts(batches[0] + batches[1])
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60,
                                 isolation=isolation) == expected

        assert streams.remove_stream_thread(30) == "scaler-StreamThread-1"  # the oldest goes
        assert [t.name for t in streams.threads] == ["scaler-StreamThread-2"]
        moved = _wait_tasks(streams, {"2": 4})  # it left the group: its tasks moved to the thread left
        _wait_caches(streams, [10 * MIB])
        assert held["1"] <= moved["2"]
        produce_lines(bootstrap, source, batches[2], start=2000)
        expected = word_counts(batches[0] + batches[1] + batches[2])
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60,
                                 isolation=isolation) == expected

        assert streams.add_stream_thread() == "scaler-StreamThread-1"  # the freed index is reused
        _wait_tasks(streams, {"1": 2, "2": 2})
        produce_lines(bootstrap, source, batches[0], start=3000)  # the reused index's producer commits too
        expected = word_counts(batches[0] * 2 + batches[1] + batches[2])
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60,
                                 isolation=isolation) == expected
    finally:
        assert streams.close(CloseOptions(timeout=60, leave_group=True))
    assert streams.state is State.NOT_RUNNING and streams.errors == []


def test_removing_the_last_thread_stops_processing_until_one_is_added(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("text"), unique("counts")
    create_topics(bootstrap, 2, source, sink)
    first, second = random_lines(4, 100), random_lines(5, 100)
    config = {"application.id": unique("last"), "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
              "commit.interval.ms": 100, "client.id": "last"}
    streams = KafkaStreams(wordcount_topology(source, sink), config)
    try:
        streams.start()
        produce_lines(bootstrap, source, first)
        expected = word_counts(first)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected
        assert streams.remove_stream_thread(30) == "last-StreamThread-1"
        assert streams.threads == [] and streams.metadata_for_local_threads() == set()
        assert streams.state.is_running_or_rebalancing()  # the client lives on without threads, as in Kafka
        produce_lines(bootstrap, source, second, start=1000)
        later = read_counts_until(bootstrap, sink, lambda c: False, timeout=3)
        assert later == expected  # nothing runs the tasks
        assert streams.add_stream_thread() == "last-StreamThread-1"
        expected = word_counts(first + second)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected
    finally:
        assert streams.close(60)


def test_a_replaced_thread_takes_a_new_index(kafka_broker, tmp_path):
    from pystreams import Consumed, Produced, Serdes, StreamsBuilder
    from pystreams.runtime import StreamThreadExceptionResponse
    from tests.integration.runtime.helpers import read_all

    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("in"), unique("out")
    create_topics(bootstrap, 2, source, sink)
    failures: list[str] = []

    def upper(value: str) -> str:
        if value == "poison" and not failures:
            failures.append(value)
            raise ValueError("transient")
        return value.upper()

    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .map_values(upper).to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    config = {"application.id": unique("replace"), "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
              "commit.interval.ms": 100, "client.id": "rep", "num.stream.threads": 2}
    streams = KafkaStreams(builder.build(), config)
    streams.set_uncaught_exception_handler(lambda e: StreamThreadExceptionResponse.REPLACE_THREAD)
    try:
        streams.start()
        produce_lines(bootstrap, source, ["a", "poison", "b", "c"])
        values = sorted(v for _k, v in read_all(bootstrap, sink, 4, timeout=60))
        assert failures == ["poison"] and b"POISON" in values and {b"A", b"B", b"C"} <= set(values)
        assert len(streams.errors) == 1
        # as Kafka (KAFKA-12375): the failing thread still holds its index when the replacement is made
        names = sorted(t.name for t in streams.threads)
        assert len(names) == 2 and names[1] == "rep-StreamThread-3"
        assert names[0] in ("rep-StreamThread-1", "rep-StreamThread-2")
    finally:
        assert streams.close(60)
