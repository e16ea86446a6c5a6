"""A StreamPartitioner that returns a negative partition fails the record, on both brokers, as in Kafka Streams 4.1:
Kafka's RecordCollectorImpl builds a ProducerRecord, whose constructor refuses the partition ("Invalid partition:
-1. ...") outside the production exception handler, so the sink's parent processor's processing.exception.handler
decides. By default the thread fails and the record is not written; with LogAndContinue it is dropped and counted
and the app goes on. (The producer alone would take -1 as "any partition" and write the record somewhere.)"""
from __future__ import annotations

from typing import Any

import pytest

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import create_topics, produce_lines, read_all, read_to_end, unique

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _streams(bootstrap: str, tmp_path: Any, **extra: Any) -> tuple[KafkaStreams, str, str]:
    source, sink = unique("negpart-in"), unique("negpart-out")
    create_topics(bootstrap, 1, source)
    create_topics(bootstrap, 2, sink)
    s = Serdes.String()
    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=s, value_serde=s)).map_values(str.upper)
        .to(sink, Produced(key_serde=s, value_serde=s, partitioner=lambda t, k, v, n: -1 if v == "BAD" else 1)))
    streams = KafkaStreams(builder.build(), {"application.id": unique("negpart"), "bootstrap.servers": bootstrap,
                                             "state.dir": str(tmp_path), "commit.interval.ms": 100, **extra})
    return streams, source, sink


def test_negative_partition_fails_the_thread_and_writes_nothing(kafka_broker: Any, tmp_path: Any) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    streams, source, sink = _streams(bootstrap, tmp_path)
    try:
        streams.start()
        produce_lines(bootstrap, source, ["ok"])
        assert read_all(bootstrap, sink, 1, timeout=60) == [(b"line-0", b"OK")]
        produce_lines(bootstrap, source, ["bad"], start=1)
        assert streams.wait_for_state(State.ERROR, timeout=60), streams.state
    finally:
        streams.close(30)
    message = str(streams.errors[0])
    assert f"Invalid partition: -1. Partition number should always be non-negative or null (record for topic " \
           f"{sink}" in message and "Exception caught in process" in message, message
    assert read_to_end(bootstrap, sink, timeout=30, isolation="read_uncommitted") == [(b"line-0", b"OK")]


def test_log_and_continue_drops_the_record_and_goes_on(kafka_broker: Any, tmp_path: Any) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    streams, source, sink = _streams(bootstrap, tmp_path, **{
        "processing.exception.handler": "LogAndContinueProcessingExceptionHandler"})
    try:
        streams.start()
        produce_lines(bootstrap, source, ["ok", "bad", "after"])
        assert read_all(bootstrap, sink, 2, timeout=60) == [(b"line-0", b"OK"), (b"line-2", b"AFTER")]
        assert streams.state is State.RUNNING and streams.errors == []
        assert sum(at.task.metrics.dropped_records for t in streams.threads for at in t.tasks.values()) == 1
    finally:
        streams.close(30)
    assert read_to_end(bootstrap, sink, timeout=30, isolation="read_uncommitted") == \
        [(b"line-0", b"OK"), (b"line-2", b"AFTER")]
