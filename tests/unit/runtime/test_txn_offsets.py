"""txn_offsets: the transactional producer's send_offsets_to_transaction made through librdkafka directly (so the
offset metadata is stored without confluent-kafka's NUL terminator) finds the producer's rd_kafka_t only when
confluent-kafka's Handle layout checks out, never after close, and fails like the binding's own call. No broker: the
producers point at a closed port (the calls fail on librdkafka's state checks before any request). The stored bytes
are checked end to end in tests/integration/reference/test_offset_metadata.py."""
from __future__ import annotations

import socket

import pytest
from confluent_kafka import KafkaException, Producer, TopicPartition

from pystreams.runtime.group.metadata import consumer_group_metadata
from pystreams.runtime.txn_offsets import StreamsProducer, lib_error, producer_handle

pytestmark = pytest.mark.unit


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def _config(**extra: object) -> dict[str, object]:
    return {"bootstrap.servers": _closed_port(), "log_level": 0, **extra}


OFFSETS = [TopicPartition("in", 0, 7, metadata="AgAAAAAAAAAB")]
GROUP = consumer_group_metadata("app", 1, "member-1")


def test_the_handle_is_found_and_forgotten_at_close() -> None:
    assert lib_error() == ""
    producer = StreamsProducer(_config())
    try:
        assert producer_handle(producer, producer._error_cb) is not None
        assert producer_handle(producer, object()) is None  # the word after rk is not that object: not trusted
    finally:
        producer.close()
    assert producer_handle(producer, producer._error_cb) is None  # rk is NULL once closed: no use after free
    with pytest.raises(RuntimeError):  # the binding's answer for a closed producer
        producer.send_offsets_to_transaction(OFFSETS, GROUP, 1)


@pytest.mark.parametrize("extra", [{}, {"transactional.id": "txn-offsets-test"}])
def test_errors_are_the_bindings(extra: dict[str, object]) -> None:
    """Not transactional / transactions not initialized: the same KafkaError (code, flags) either way."""
    ours, theirs = StreamsProducer(_config(**extra)), Producer(_config(**extra))
    try:
        with pytest.raises(KafkaException) as got:
            ours.send_offsets_to_transaction(OFFSETS, GROUP, 1)
        with pytest.raises(KafkaException) as want:
            theirs.send_offsets_to_transaction(OFFSETS, GROUP, 1)
    finally:
        ours.close()
        theirs.close()
    a, b = got.value.args[0], want.value.args[0]
    assert (a.code(), a.fatal(), a.retriable(), a.txn_requires_abort()) == \
        (b.code(), b.fatal(), b.retriable(), b.txn_requires_abort())
    assert a.str() == b.str()


def test_bad_group_metadata_is_refused_like_the_binding() -> None:
    producer = StreamsProducer(_config(**{"transactional.id": "txn-offsets-test"}))
    try:
        with pytest.raises(KafkaException, match="(?i)metadata"):
            producer.send_offsets_to_transaction(OFFSETS, b"not group metadata", 1)
    finally:
        producer.close()
