"""Uncaught exceptions (default: the client goes to ERROR; REPLACE_THREAD: a new thread carries on) and
num.stream.threads > 1 (threads of one client split the tasks)."""
from __future__ import annotations

import time

import pytest

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State, StreamThreadExceptionResponse
from tests.integration.runtime.helpers import (create_topics, produce_lines, random_lines, read_all,
                                               read_counts_until, unique, word_counts, wordcount_topology)

pytestmark = pytest.mark.integration


def _upper_topology(source, sink, fail):
    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .map_values(lambda v: fail(v) or v.upper())
        .to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    return builder.build()


def _config(bootstrap, tmp_path, **extra):
    return {"application.id": unique("err"), "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
            "commit.interval.ms": 100, **extra}


def _boom_on(word):
    def fail(value):
        if value == word:
            raise ValueError(f"cannot handle {value}")
    return fail


def test_an_uncaught_exception_puts_the_client_in_error(pystreams_broker, tmp_path):
    bootstrap = pystreams_broker.bootstrap_servers
    source, sink = unique("in"), unique("out")
    create_topics(bootstrap, 1, source, sink)
    streams = KafkaStreams(_upper_topology(source, sink, _boom_on("poison")), _config(bootstrap, tmp_path))
    try:
        streams.start()
        produce_lines(bootstrap, source, ["fine", "poison"])
        assert streams.wait_for_state(State.ERROR, timeout=60), streams.state
    finally:
        streams.close(30)
    assert streams.state is State.ERROR
    assert "cannot handle poison" in str(streams.errors[0])


def test_replace_thread_keeps_the_client_running(pystreams_broker, tmp_path):
    bootstrap = pystreams_broker.bootstrap_servers
    source, sink = unique("in"), unique("out")
    create_topics(bootstrap, 1, source, sink)
    failures = []

    def fail_once(value):
        if value == "poison" and not failures:
            failures.append(value)
            raise ValueError("transient")
    streams = KafkaStreams(_upper_topology(source, sink, fail_once), _config(bootstrap, tmp_path))
    streams.set_uncaught_exception_handler(lambda e: StreamThreadExceptionResponse.REPLACE_THREAD)
    try:
        streams.start()
        produce_lines(bootstrap, source, ["a", "poison", "b"])
        values = sorted(v for _k, v in read_all(bootstrap, sink, 3, timeout=60))
        assert b"POISON" in values and b"B" in values
        assert streams.state in (State.RUNNING, State.REBALANCING)
        assert [t.name.rsplit("-", 1)[1] for t in streams.threads] == ["2"]  # thread 1 was replaced by 2
    finally:
        assert streams.close(60)
    assert len(streams.errors) == 1


def test_two_stream_threads_split_the_tasks(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("text"), unique("counts")
    create_topics(bootstrap, 2, source, sink)
    lines = random_lines(3, 200)
    produce_lines(bootstrap, source, lines)
    streams = KafkaStreams(wordcount_topology(source, sink), _config(bootstrap, tmp_path, **{"num.stream.threads": 2}))
    try:
        streams.start()
        expected = word_counts(lines)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected
        deadline = time.monotonic() + 30
        while sorted(len(t.tasks) for t in streams.threads) != [2, 2] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sorted(len(t.tasks) for t in streams.threads) == [2, 2]
        assert streams.wait_for_state(State.RUNNING, timeout=30)
    finally:
        assert streams.close(60)
