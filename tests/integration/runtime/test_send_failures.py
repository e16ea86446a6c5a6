"""A record the broker refuses (larger than the sink topic's max.message.bytes) goes to production.exception.handler,
on both brokers: with a handler that says CONTINUE the record is dropped and counted, the app keeps running, later
records arrive and the input offsets are committed; with the default handler the stream thread fails with an error
naming the sink topic and the cause (Kafka's RecordCollectorImpl.recordSendError); under exactly_once_v2 the thread
fails even on CONTINUE, because the transaction cannot commit after a failed send (as in Kafka Streams)."""
from __future__ import annotations

import threading
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.processor.handlers import ProductionHandlerResponse
from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import committed_offset, produce_lines, read_all, unique

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
BIG = "x" * 5000  # the sink topic takes at most 1000 bytes per batch


class Continue:
    """Drops whatever could not be sent (the standard use: RecordTooLargeException)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, Any, Exception]] = []
        self.called = threading.Event()

    def handle_serialization_exception(self, context: Any, record: Any, exception: Exception, origin: Any) -> Any:
        return ProductionHandlerResponse.FAIL

    def handle(self, context: Any, record: Any, exception: Exception) -> ProductionHandlerResponse:
        self.calls.append((context, record, exception))
        self.called.set()
        return ProductionHandlerResponse.CONTINUE


def _setup(bootstrap: str) -> tuple[str, str]:
    source, sink = unique("send-in"), unique("send-out")
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(source, 1, 1),
                                   NewTopic(sink, 1, 1, config={"max.message.bytes": "1000"})])
    for f in futures.values():
        f.result(30)
    return source, sink


def _streams(bootstrap: str, tmp_path: Any, source: str, sink: str, **extra: Any) -> KafkaStreams:
    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    return KafkaStreams(builder.build(), {"application.id": unique("send"), "bootstrap.servers": bootstrap,
                                          "state.dir": str(tmp_path), "commit.interval.ms": 100, **extra})


def test_continue_drops_a_refused_record_and_goes_on(kafka_broker: Any, tmp_path: Any) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = _setup(bootstrap)
    handler = Continue()
    streams = _streams(bootstrap, tmp_path, source, sink, **{"production.exception.handler": handler})
    try:
        streams.start()
        produce_lines(bootstrap, source, ["before"])
        assert read_all(bootstrap, sink, 1, timeout=60) == [(b"line-0", b"before")]
        produce_lines(bootstrap, source, [BIG], start=1)  # alone in its produce request: only it is refused
        assert handler.called.wait(60), "the handler was not asked about the refused record"
        produce_lines(bootstrap, source, ["after"], start=2)
        got = read_all(bootstrap, sink, 2, timeout=60)
        assert got == [(b"line-0", b"before"), (b"line-2", b"after")]
        assert streams.state is State.RUNNING and streams.errors == []
        [(context, record, exception)] = handler.calls
        assert record.topic == sink and record.value == BIG.encode() and record.key == b"line-1"
        assert "TOO_LARGE" in exception.args[0].name()
        assert context.task_id is not None and str(context.task_id) == "0_0"
        dropped = sum(at.task.metrics.dropped_records for t in streams.threads for at in t.tasks.values())
        assert dropped == 1
        assert committed_offset(bootstrap, streams.config.application_id, source, 3) == 3
    finally:
        streams.close(30)


def test_default_handler_fails_the_thread_naming_topic_and_cause(kafka_broker: Any, tmp_path: Any) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = _setup(bootstrap)
    streams = _streams(bootstrap, tmp_path, source, sink)
    try:
        streams.start()
        produce_lines(bootstrap, source, [BIG])
        assert streams.wait_for_state(State.ERROR, timeout=60), streams.state
    finally:
        streams.close(30)
    message = str(streams.errors[0])
    assert sink in message and "TOO_LARGE" in message and "returned FAIL" in message, message


def test_under_eos_continue_still_fails_the_thread(kafka_broker: Any, tmp_path: Any) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = _setup(bootstrap)
    handler = Continue()
    streams = _streams(bootstrap, tmp_path, source, sink, **{"production.exception.handler": handler,
                                                            "processing.guarantee": "exactly_once_v2"})
    try:
        streams.start()
        produce_lines(bootstrap, source, [BIG])
        assert streams.wait_for_state(State.ERROR, timeout=60), streams.state
    finally:
        streams.close(30)
    message = str(streams.errors[0])
    assert len(handler.calls) == 1  # asked, as Kafka does, but the transaction cannot commit
    assert sink in message and "exactly_once_v2" in message, message
