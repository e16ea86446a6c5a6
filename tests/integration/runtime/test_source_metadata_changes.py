"""A source topic's metadata changes while the application runs (audit s7 H2/H3), on both brokers: the members
read it again every metadata.max.age.ms and rejoin; the leader plans again (Kafka's ConsumerCoordinator rejoin
and StreamsPartitionAssignor). Partitions added to a stateless source become new tasks and are consumed; a
stateful sub-topology's changelogs are then too small (Kafka's "invalid partitions" StreamsException); a deleted
source topic is Kafka's MissingSourceTopicException. Both errors reach the uncaught-exception handler."""
from __future__ import annotations

import re
import time
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewPartitions

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State, StreamThreadExceptionResponse
from tests.integration.runtime.helpers import create_topics, read_all, unique

pytestmark = pytest.mark.integration

STRINGS = {"key_serde": Serdes.String(), "value_serde": Serdes.String()}


def _config(bootstrap: str, tmp_path: Any) -> dict[str, Any]:
    return {"application.id": unique("meta"), "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
            "commit.interval.ms": 100, "metadata.max.age.ms": 1000}


def _stateless(source: str, sink: str) -> Any:
    builder = StreamsBuilder()
    builder.stream(source, Consumed(**STRINGS)).filter(lambda k, v: True).to(sink, Produced(**STRINGS))
    return builder.build()


def _stateful(source: str, sink: str) -> Any:
    builder = StreamsBuilder()
    (builder.stream(source, Consumed(**STRINGS)).group_by_key().count().to_stream()
        .map_values(str).to(sink, Produced(**STRINGS)))
    return builder.build()


def _grow(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_partitions([NewPartitions(topic, partitions)])[topic].result(30)


def _produce_per_partition(bootstrap: str, topic: str, partitions: int, per_partition: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for partition in range(partitions):
        for i in range(per_partition):
            producer.produce(topic, key=f"k{partition}-{i}", value=f"v{partition}-{i}", partition=partition)
    assert producer.flush(30) == 0


def _tasks(streams: KafkaStreams) -> set[str]:
    return {str(t) for thread in streams.threads for t in thread.tasks}


def _start_running(streams: KafkaStreams, errors: list[BaseException]) -> None:
    def handler(error: BaseException) -> StreamThreadExceptionResponse:
        errors.append(error)
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT

    streams.set_uncaught_exception_handler(handler)
    streams.start()
    assert streams.wait_for_state(State.RUNNING, timeout=30), streams.state


def test_partitions_added_to_a_stateless_source_become_tasks(kafka_broker: Any, tmp_path: Any) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("grow-in"), unique("grow-out")
    create_topics(bootstrap, 2, source, sink)
    streams = KafkaStreams(_stateless(source, sink), _config(bootstrap, tmp_path))
    errors: list[BaseException] = []
    try:
        _start_running(streams, errors)
        assert _tasks(streams) == {"0_0", "0_1"}
        _grow(bootstrap, source, 4)
        _produce_per_partition(bootstrap, source, 4, 5)
        got = read_all(bootstrap, sink, 20, timeout=30)
        assert sorted(v.decode() for _, v in got) == sorted(f"v{p}-{i}" for p in range(4) for i in range(5))
        assert _tasks(streams) == {"0_0", "0_1", "0_2", "0_3"}
        assert streams.state is State.RUNNING and not errors and not streams.errors
    finally:
        streams.close(30)


def test_a_stateful_source_that_grew_fails_with_kafkas_invalid_partitions_error(kafka_broker: Any,
                                                                               tmp_path: Any) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("grow-count-in"), unique("grow-count-out")
    create_topics(bootstrap, 2, source, sink)
    config = _config(bootstrap, tmp_path)
    streams = KafkaStreams(_stateful(source, sink), config)
    errors: list[BaseException] = []
    try:
        _start_running(streams, errors)
        _grow(bootstrap, source, 4)
        assert streams.wait_for_state(State.ERROR, timeout=30), streams.state
    finally:
        streams.close(30)
    assert errors, "the uncaught-exception handler was not called"
    text = str(errors[0])
    app = config["application.id"]
    assert re.search(f"Existing internal topic {app}-[A-Z0-9-]+-changelog has invalid partitions: expected: 4; "
                     "actual: 2", text), text
    assert f"pystreams reset --application-id {config['application.id']} --input-topics {source}" in text
    assert _tasks(streams) == set()


def test_a_deleted_source_topic_fails_with_kafkas_missing_source_topic_error(kafka_broker: Any,
                                                                           tmp_path: Any) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("gone-in"), unique("gone-out")
    create_topics(bootstrap, 2, source, sink)
    streams = KafkaStreams(_stateful(source, sink), _config(bootstrap, tmp_path))
    errors: list[BaseException] = []
    try:
        _start_running(streams, errors)
        admin = AdminClient({"bootstrap.servers": bootstrap})
        admin.delete_topics([source])[source].result(30)
        deleted = time.monotonic()
        # metadata.max.age.ms (1 s) until a member notices, then one rebalance
        assert streams.wait_for_state(State.ERROR, timeout=20), streams.state
        took = time.monotonic() - deleted
    finally:
        streams.close(30)
    assert errors, "the uncaught-exception handler was not called"
    assert "One or more source topics were missing during rebalance" in str(errors[0])
    assert source in str(errors[0])
    assert took < 20


def test_every_instance_gets_the_error_not_only_the_leader(kafka_broker: Any, tmp_path: Any) -> None:
    """Two instances of a stateful app: the leader's ASSIGNMENT_ERROR carries the text to the other one too."""
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("grow-two-in"), unique("grow-two-out")
    create_topics(bootstrap, 2, source, sink)
    config = _config(bootstrap, tmp_path / "a")
    both = [KafkaStreams(_stateful(source, sink), config),
            KafkaStreams(_stateful(source, sink), {**config, "state.dir": str(tmp_path / "b")})]
    errors: list[list[BaseException]] = [[], []]
    try:
        for streams, errs in zip(both, errors):
            _start_running(streams, errs)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (_tasks(both[0]) and _tasks(both[1])):
            time.sleep(0.1)  # cooperative: the second instance gets a task one rebalance later
        assert _tasks(both[0]) and _tasks(both[1])
        _grow(bootstrap, source, 4)
        for streams in both:
            assert streams.wait_for_state(State.ERROR, timeout=30), streams.state
    finally:
        for streams in both:
            streams.close(30)
    for errs in errors:
        assert errs and "has invalid partitions: expected: 4; actual: 2" in str(errs[0]), errs
