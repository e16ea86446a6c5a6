"""Deserialization exception handlers, as Kafka Streams' RecordDeserializer applies them."""
from __future__ import annotations

import logging

import pytest

from pystreams.errors import ConfigError, SerdeError
from pystreams.serdes import Serdes
from pystreams.serdes.handlers import (
    DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
    ConsumerRecord,
    DeserializationFailedError,
    DeserializationHandlerResponse,
    ErrorHandlerContext,
    HandlerCallbackError,
    LogAndContinueExceptionHandler,
    LogAndFailExceptionHandler,
    RecordDeserializer,
    resolve_deserialization_handler,
)

pytestmark = pytest.mark.unit

GOOD = ConsumerRecord("in", 0, 5, 1000, b"k", bytes.fromhex("0000000000000007"))
BAD = ConsumerRecord("in", 1, 6, 1001, b"k", b"\x01\x02")


def _deserializer(handler: object) -> RecordDeserializer:
    return RecordDeserializer(Serdes.String(), Serdes.Long(), handler,  # type: ignore[arg-type]
                              source_node_name="KSTREAM-SOURCE-0000000000", task_id="0_1")


def test_good_records_pass_through() -> None:
    assert _deserializer(LogAndFailExceptionHandler()).deserialize(GOOD) == ("k", 7)


def test_log_and_continue_skips_and_counts(caplog: pytest.LogCaptureFixture) -> None:
    des = _deserializer(LogAndContinueExceptionHandler())
    with caplog.at_level(logging.WARNING):
        assert des.deserialize(BAD) is None
    assert des.dropped == 1
    assert "Skipping record due to deserialization error. topic=[in] partition=[1] offset=[6]" \
        in caplog.text
    assert des.deserialize(GOOD) == ("k", 7)


def test_log_and_fail_raises_with_kafkas_message(caplog: pytest.LogCaptureFixture) -> None:
    des = _deserializer(LogAndFailExceptionHandler())
    with caplog.at_level(logging.ERROR), pytest.raises(DeserializationFailedError) as info:
        des.deserialize(BAD)
    assert "set to fail upon a deserialization error" in str(info.value)
    assert "deserialization.exception.handler" in str(info.value)
    assert isinstance(info.value.__cause__, SerdeError)
    assert "LongDeserializer is not 8" in str(info.value.__cause__)
    assert "taskId: 0_1, topic: in, partition: 1, offset: 6" in caplog.text


def test_handler_sees_context_and_raw_record() -> None:
    seen = []

    class Recording:
        def handle(self, context, record, exception):
            seen.append((context, record, exception))
            return DeserializationHandlerResponse.CONTINUE

        def configure(self, configs):
            pass

    assert _deserializer(Recording()).deserialize(BAD) is None
    context, record, exc = seen[0]
    assert context == ErrorHandlerContext("in", 1, 6, (), "KSTREAM-SOURCE-0000000000", "0_1", 1001)
    assert record is BAD and isinstance(exc, SerdeError)


def test_a_handler_that_raises_or_answers_nonsense_is_fatal() -> None:
    class Broken:
        def handle(self, context, record, exception):
            raise RuntimeError("boom")

    class Nonsense:
        def handle(self, context, record, exception):
            return "CONTINUE"

    for handler in (Broken(), Nonsense()):
        with pytest.raises(HandlerCallbackError, match="Fatal user code error"):
            _deserializer(handler).deserialize(BAD)


@pytest.mark.parametrize(("value", "cls"), [
    (None, LogAndFailExceptionHandler),
    ("org.apache.kafka.streams.errors.LogAndContinueExceptionHandler",
     LogAndContinueExceptionHandler),
    ("org.apache.kafka.streams.errors.LogAndFailExceptionHandler", LogAndFailExceptionHandler),
    ("LogAndContinueExceptionHandler", LogAndContinueExceptionHandler),
    ("log-and-continue", LogAndContinueExceptionHandler),
    ("pystreams.serdes.handlers:LogAndContinueExceptionHandler", LogAndContinueExceptionHandler),
    (LogAndContinueExceptionHandler, LogAndContinueExceptionHandler),
])
def test_resolve_from_config(value: object, cls: type) -> None:
    configs = {} if value is None else {DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG: value}
    assert type(resolve_deserialization_handler(configs)) is cls


def test_deprecated_config_key_still_works_and_new_key_wins() -> None:
    old = "default.deserialization.exception.handler"
    assert type(resolve_deserialization_handler({old: "LogAndContinueExceptionHandler"})) \
        is LogAndContinueExceptionHandler
    both = {old: "LogAndContinueExceptionHandler",
            DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG: "LogAndFailExceptionHandler"}
    assert type(resolve_deserialization_handler(both)) is LogAndFailExceptionHandler


def test_bad_handler_config() -> None:
    with pytest.raises(ConfigError, match="deserialization.exception.handler"):
        resolve_deserialization_handler({DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG: "nope.Nope"})
    with pytest.raises(ConfigError, match="has no handle"):
        resolve_deserialization_handler({DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG: object()})
