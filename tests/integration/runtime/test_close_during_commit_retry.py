"""close(timeout) while a stream thread retries a failed offset commit returns within its timeout, on both brokers.

A repartition topic deleted under the app makes the group's OffsetCommit answer UNKNOWN_TOPIC_OR_PARTITION, which the
thread retries like Kafka's commitSync for up to default.api.timeout.ms (60 s here, Kafka's default). close(10) used
to return False after its 10 s, the thread still retrying for most of a minute; now the retries stop in time for the
close (the tasks are closed without those offsets: their records are processed again after a restart) and the client
reaches NOT_RUNNING within the timeout."""
from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import (
    create_topics,
    produce_lines,
    read_counts_until,
    unique,
    wordcount_topology,
)
from tests.integration.runtime.test_commit_deleted_topic import COMMIT_INTERVAL_S, _commits, _config

pytestmark = pytest.mark.integration

CLOSE_TIMEOUT_S = 10.0


def test_close_returns_within_its_timeout_while_a_commit_is_retried(
        kafka_broker: Any, tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pystreams.runtime")
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("cdr-words"), unique("cdr-counts")
    create_topics(bootstrap, 2, source, sink)
    config = {**_config(bootstrap, tmp_path, unique("cdr-wc")), "default.api.timeout.ms": 60_000}
    streams = KafkaStreams(wordcount_topology(source, sink), config)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    closed = False
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=30), streams.state
        [repartition] = streams.plan.repartition_topics
        seen, deadline = _commits(streams), time.monotonic() + COMMIT_INTERVAL_S + 5
        while _commits(streams) == seen:  # just after a commit: the records below wait for the next one
            assert time.monotonic() < deadline, "no commit"
            time.sleep(0.005)
        produce_lines(bootstrap, source, ["a b", "a c"])
        assert read_counts_until(bootstrap, sink, lambda c: c == {"a": 2, "b": 1, "c": 1}, timeout=20)
        admin.delete_topics([repartition])[repartition].result(30)
        deadline = time.monotonic() + COMMIT_INTERVAL_S + 10
        while not any("retrying the commit" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the commit was not retried"
            time.sleep(0.02)
        started = time.monotonic()
        closed = streams.close(CLOSE_TIMEOUT_S)
        took = time.monotonic() - started
        assert closed, f"close({CLOSE_TIMEOUT_S:.0f}) timed out ({took:.1f} s): the commit retries held it up"
        assert took < CLOSE_TIMEOUT_S, took
        assert streams.state is State.NOT_RUNNING
        assert any("not retrying the commit" in r.getMessage() for r in caplog.records)
    finally:
        if not closed:
            streams.close(90)
