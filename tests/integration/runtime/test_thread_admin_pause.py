"""KafkaStreams.pause() / resume() (Kafka 3.3+, KIP-834) on both brokers: while paused nothing is processed, yet
the members stay in the group (heartbeats and polls go on past session.timeout.ms and max.poll.interval.ms, so no
rebalance); after resume() processing picks up where it stopped and the counts come out complete and exact."""
from __future__ import annotations

import time

import pytest

from pystreams.runtime import KafkaStreams, State
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

#: short membership timeouts (the test brokers have no group.min.session.timeout.ms floor; 3 s sessions with 0.5 s
#: heartbeats as the failover tests): a paused thread that stopped polling or heartbeating would be out of the group,
#: and the group would rebalance, within the pause (1.5x both)
MEMBERSHIP = {"session.timeout.ms": 3000, "heartbeat.interval.ms": 500, "max.poll.interval.ms": 3000}
PAUSE_S = 4.5


def _tasks(streams: KafkaStreams) -> dict[str, set[str]]:
    return {m.thread_name: {str(t.task_id) for t in m.active_tasks} for m in streams.metadata_for_local_threads()}


def _start(bootstrap, tmp_path, source, sink, paused=False):
    config = {"application.id": unique("pause"), "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
              "commit.interval.ms": 100, "num.stream.threads": 2, **MEMBERSHIP}
    streams = KafkaStreams(wordcount_topology(source, sink), config)
    seen: list[tuple[State, State]] = []
    streams.set_state_listener(lambda new, old: seen.append((new, old)))
    if paused:
        streams.pause()
    streams.start()
    return streams, seen


def _wait_running_with_all_tasks(streams: KafkaStreams, timeout: float = 60) -> dict[str, set[str]]:
    deadline = time.monotonic() + timeout
    while True:
        held = _tasks(streams)
        if streams.state is State.RUNNING and set().union(*held.values()) == {"0_0", "0_1", "1_0", "1_1"}:
            return held
        assert time.monotonic() < deadline, (streams.state, held)
        time.sleep(0.1)


def test_pause_stops_processing_without_a_rebalance_and_resume_goes_on(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("text"), unique("counts")
    create_topics(bootstrap, 2, source, sink)
    first, second = random_lines(7, 150), random_lines(8, 150)
    streams, seen = _start(bootstrap, tmp_path, source, sink)
    try:
        produce_lines(bootstrap, source, first)
        expected = word_counts(first)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected
        held = _wait_running_with_all_tasks(streams)
        transitions = len(seen)

        streams.pause()
        assert streams.is_paused()
        produce_lines(bootstrap, source, second, start=1000)
        # read for the whole pause: longer than session.timeout.ms and max.poll.interval.ms
        during = read_counts_until(bootstrap, sink, lambda c: False, timeout=PAUSE_S)
        assert during == expected  # nothing of the second batch was processed
        assert streams.state is State.RUNNING and len(seen) == transitions  # no rebalance: still RUNNING
        assert _tasks(streams) == held  # every thread kept its tasks

        streams.resume()
        assert not streams.is_paused()
        expected = word_counts(first + second)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected
        assert len(seen) == transitions and _tasks(streams) == held
    finally:
        assert streams.close(60)
    assert streams.errors == []


def test_a_client_started_paused_joins_the_group_but_processes_nothing_until_resumed(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("text"), unique("counts")
    create_topics(bootstrap, 2, source, sink)
    lines = random_lines(9, 100)
    produce_lines(bootstrap, source, lines)
    streams, _seen = _start(bootstrap, tmp_path, source, sink, paused=True)  # Kafka allows pause() before start()
    try:
        _wait_running_with_all_tasks(streams)  # the consumers started and got their tasks
        assert read_counts_until(bootstrap, sink, lambda c: False, timeout=3) == {}
        streams.resume()
        expected = word_counts(lines)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected
    finally:
        assert streams.close(60)
