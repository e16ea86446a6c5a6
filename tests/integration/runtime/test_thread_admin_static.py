"""Static membership (group.instance.id) with several stream threads, on both brokers: each thread's member joins
as `<group.instance.id>-<thread index>` (Kafka's StreamThread suffix), so two threads of one client, and a thread
added at run time, do not fence each other (FENCED_INSTANCE_ID would kill a thread and put the client in ERROR)."""
from __future__ import annotations

import time

import pytest
from confluent_kafka.admin import AdminClient

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


def _instance_ids(bootstrap: str, group: str) -> list[str]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    described = admin.describe_consumer_groups([group])[group].result(timeout=30)
    return sorted(m.group_instance_id or "" for m in described.members)


def _wait(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_threads_of_one_static_client_join_with_their_own_instance_ids(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("text"), unique("counts")
    create_topics(bootstrap, 2, source, sink)
    first, second = random_lines(6, 100), random_lines(7, 100)
    app = unique("static")
    config = {"application.id": app, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
              "commit.interval.ms": 100, "client.id": "st", "num.stream.threads": 2, "group.instance.id": "node-a"}
    streams = KafkaStreams(wordcount_topology(source, sink), config)
    try:
        streams.start()
        produce_lines(bootstrap, source, first)
        expected = word_counts(first)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected
        _wait(lambda: streams.state is State.RUNNING and all(t.tasks for t in streams.threads))
        assert _instance_ids(bootstrap, app) == ["node-a-1", "node-a-2"]  # thread indexes start at 1, as Kafka's
        assert streams.add_stream_thread() == "st-StreamThread-3"
        _wait(lambda: _instance_ids(bootstrap, app) == ["node-a-1", "node-a-2", "node-a-3"])
        produce_lines(bootstrap, source, second, start=1000)
        expected = word_counts(first + second)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected
        _wait(lambda: streams.state is State.RUNNING)
        assert streams.errors == [] and len(streams.threads) == 3
    finally:
        assert streams.close(60)
