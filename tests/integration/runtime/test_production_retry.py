"""production.exception.handler RETRY on a real broker, both brokers (Kafka 4.x, KIP-1065: a retriable send
error answered RETRY is a TaskCorruptedException): the thread does not fail; its tasks are closed without
committing and resumed from the last committed offsets, so the records whose output was lost are processed again
and the output is complete.

The retriable error: the sink topic does not exist yet (the producer may not auto-create it), so librdkafka fails
the sends with _UNKNOWN_TOPIC / UNKNOWN_TOPIC_OR_PART (Java: UnknownTopicOrPartitionException, a
RetriableException) after topic.metadata.propagation.max.ms. The handler answers RETRY; once it has been asked,
the test creates the topic, and the revived tasks' sends go through. Under at_least_once the tasks are revived in
place (no rebalance); under exactly_once_v2 the transaction is aborted, the tasks closed dirty and the thread
rejoins, and the read_committed output holds each record exactly once."""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from pystreams import Consumed, Materialized, Produced, Serdes, StreamsBuilder
from pystreams.processor.handlers import ProductionHandlerResponse
from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import create_topics, produce_lines, unique

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

N = 200


class Retry:
    """Answers RETRY (valid for retriable errors only) and says when it was first asked."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.asked = threading.Event()

    def handle(self, context: Any, record: Any, exception: Exception) -> ProductionHandlerResponse:
        self.errors.append(exception.args[0].name())
        self.asked.set()
        return ProductionHandlerResponse.RETRY


def _read(bootstrap: str, topic: str, expected: set[str], isolation: str, timeout: float = 90.0) -> list[str]:
    """Keys of every record in topic, until each expected key was seen (and a moment after, for duplicates)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": isolation})
    consumer.subscribe([topic])
    out: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not expected <= set(out):
            out += [m.key().decode() for m in consumer.consume(1000, 0.3) if m.error() is None]
        out += [m.key().decode() for m in consumer.consume(1000, 1.0) if m.error() is None]
    finally:
        consumer.close()
    return out


def _committed(bootstrap: str, group: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        return int(consumer.committed([TopicPartition(topic, 0)], timeout=10)[0].offset)
    finally:
        consumer.close()


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once_v2"])
def test_retry_revives_the_tasks_and_the_output_is_complete(kafka_broker: Any, tmp_path: Any,
                                                            guarantee: str) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("retry-in"), unique("retry-out")
    create_topics(bootstrap, 1, source)  # the sink topic does not exist yet
    produce_lines(bootstrap, source, [f"v{i}" for i in range(N)])
    handler = Retry()
    builder = StreamsBuilder()
    # a stateful step too: the revived task restores its store from the changelog
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .group_by_key().count(Materialized(name="seen"))
        .to_stream().map_values(str)
        .to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    app_id = unique("retry")
    streams = KafkaStreams(builder.build(), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
        "commit.interval.ms": 200, "processing.guarantee": guarantee, "statestore.cache.max.bytes": 0,
        "production.exception.handler": handler, "consumer.session.timeout.ms": 10000,
        "producer.allow.auto.create.topics": False, "producer.topic.metadata.propagation.max.ms": 500,
        "producer.topic.metadata.refresh.interval.ms": 500, "producer.message.timeout.ms": 5000})
    try:
        streams.start()
        assert handler.asked.wait(60), "no send failed: the sink topic exists or was auto-created"
        time.sleep(1.0)  # a few failed rounds: each RETRY revives the tasks (the thread must not fail)
        assert streams.state in (State.RUNNING, State.REBALANCING) and streams.errors == [], streams.errors
        admin = AdminClient({"bootstrap.servers": bootstrap})
        for f in admin.create_topics([NewTopic(sink, 1, 1)]).values():
            f.result(30)
        expected = {f"line-{i}" for i in range(N)}
        got = _read(bootstrap, sink, expected,
                    "read_committed" if guarantee == "exactly_once_v2" else "read_uncommitted")
        assert set(got) == expected, f"{len(expected - set(got))} of {N} records missing"
        if guarantee == "exactly_once_v2":
            assert len(got) == N, f"{len(got) - N} duplicates in the read_committed output"
        assert streams.errors == [] and streams.state in (State.RUNNING, State.REBALANCING)
        deadline = time.monotonic() + 30
        while _committed(bootstrap, app_id, source) < N and time.monotonic() < deadline:
            time.sleep(0.3)
        assert _committed(bootstrap, app_id, source) == N
        if guarantee == "at_least_once":
            assert sum(t.revived for t in streams.threads) >= 1  # in place, not a thread failure or a rejoin
    finally:
        assert streams.close(60)
    assert set(handler.errors) <= {"_UNKNOWN_TOPIC", "UNKNOWN_TOPIC_OR_PART"}, handler.errors
