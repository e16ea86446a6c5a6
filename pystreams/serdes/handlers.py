"""Deserialization exception handlers as Kafka Streams has them: a source record whose key or
value cannot be deserialized is either skipped with a warning (log-and-continue) or stops the app
(log-and-fail, the default), chosen by ``deserialization.exception.handler``."""
from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from pystreams.errors import ConfigError, SerdeError
from pystreams.serdes.base import Deserializer, Headers

log = logging.getLogger("pystreams.serdes.handlers")

#: Kafka's config key (and the pre-4.0 name it replaced, still honoured like Kafka does).
DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG = "deserialization.exception.handler"
DEFAULT_DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG = "default.deserialization.exception.handler"

K = TypeVar("K")
V = TypeVar("V")


class DeserializationHandlerResponse(enum.Enum):
    """What to do with a record that failed to deserialize (Kafka's ids: CONTINUE 0, FAIL 1)."""

    CONTINUE = 0
    FAIL = 1


@dataclass(frozen=True)
class ConsumerRecord:
    """The raw record that failed: bytes as they came from the topic."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: Headers = ()


@dataclass(frozen=True)
class ErrorHandlerContext:
    """Kafka's ErrorHandlerContext: where the failure happened (-1 / None when unknown)."""

    topic: str | None = None
    partition: int = -1
    offset: int = -1
    headers: Headers = ()
    processor_node_id: str | None = None
    task_id: Any = None
    timestamp: int = -1


@runtime_checkable
class DeserializationExceptionHandler(Protocol):
    """Decides whether a deserialization failure skips the record or stops processing."""

    def handle(self, context: ErrorHandlerContext, record: ConsumerRecord,
               exception: Exception) -> DeserializationHandlerResponse: ...

    def configure(self, configs: Mapping[str, Any]) -> None: ...


def _log_failure(level: int, context: ErrorHandlerContext, record: ConsumerRecord, exception: Exception) -> None:
    """Kafka's log line for a record that could not be deserialized (both built-in handlers write it)."""
    log.log(level, "Exception caught during Deserialization, taskId: %s, topic: %s, partition: %s, offset: %s",
            context.task_id, record.topic, record.partition, record.offset, exc_info=exception, stacklevel=2)


class LogAndContinueExceptionHandler:
    """Log a warning and skip the record: for topics where a bad record must not stop the app."""

    def handle(self, context: ErrorHandlerContext, record: ConsumerRecord,
               exception: Exception) -> DeserializationHandlerResponse:
        _log_failure(logging.WARNING, context, record, exception)
        return DeserializationHandlerResponse.CONTINUE

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Nothing to configure."""


class LogAndFailExceptionHandler:
    """Log an error and stop processing (Kafka Streams' default): bad data is never skipped silently."""

    def handle(self, context: ErrorHandlerContext, record: ConsumerRecord,
               exception: Exception) -> DeserializationHandlerResponse:
        _log_failure(logging.ERROR, context, record, exception)
        return DeserializationHandlerResponse.FAIL

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Nothing to configure."""


class DeserializationFailedError(SerdeError):
    """Kafka's StreamsException after a FAIL response: processing stops; ``__cause__`` is the
    original deserialization error."""


class HandlerCallbackError(SerdeError):
    """The deserialization handler itself raised (Kafka: 'Fatal user code error ...')."""


_HANDLERS: dict[str, type] = {
    "logandcontinueexceptionhandler": LogAndContinueExceptionHandler,
    "logandcontinue": LogAndContinueExceptionHandler,
    "continue": LogAndContinueExceptionHandler,
    "logandfailexceptionhandler": LogAndFailExceptionHandler,
    "logandfail": LogAndFailExceptionHandler,
    "fail": LogAndFailExceptionHandler,
}


def resolve_deserialization_handler(configs: Mapping[str, Any] | None = None
                                    ) -> DeserializationExceptionHandler:
    """The handler the app config asks for; LogAndFail when none is set, as in Kafka Streams.

    Accepts an instance, a class, Kafka's class names
    (``org.apache.kafka.streams.errors.LogAndContinueExceptionHandler``), short names
    (``log-and-continue``) or an importable ``package.module:Class``."""
    configs = configs or {}
    value = configs.get(DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG)
    if value is None:
        value = configs.get(DEFAULT_DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG)
    if value is None:
        handler: Any = LogAndFailExceptionHandler()
    elif isinstance(value, str):
        name = value.strip().rsplit(".", 1)[-1].rsplit(":", 1)[-1]
        cls = _HANDLERS.get(name.lower().replace("-", "").replace("_", ""))
        if cls is None:
            from pystreams.serdes.resolve import _import

            try:
                cls = _import(value.strip(), value)
            except ConfigError as exc:
                raise ConfigError(f"{DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG}={value!r}: "
                                  f"use LogAndContinueExceptionHandler, LogAndFailExceptionHandler "
                                  f"or an importable class ({exc})") from exc
        handler = cls() if isinstance(cls, type) else cls
    elif isinstance(value, type):
        handler = value()
    else:
        handler = value
    if not callable(getattr(handler, "handle", None)):
        raise ConfigError(f"{DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG}={value!r} has no "
                          f"handle(context, record, exception) method")
    configure = getattr(handler, "configure", None)
    if callable(configure):
        configure(dict(configs))
    return handler  # type: ignore[no-any-return]


def handle_deserialization_failure(handler: DeserializationExceptionHandler,
                                   context: ErrorHandlerContext, record: ConsumerRecord,
                                   exception: Exception,
                                   on_dropped: Callable[[], None] | None = None) -> None:
    """Ask the handler; return to skip the record (CONTINUE), raise to stop (FAIL).

    ``on_dropped`` is called for a skipped record (Kafka's dropped-records sensor)."""
    try:
        response = handler.handle(context, record, exception)
        if not isinstance(response, DeserializationHandlerResponse):
            raise TypeError(f"Invalid DeserializationExceptionHandler response: {response!r}")
    except Exception as fatal:  # noqa: BLE001 - the user's callback failed: stop, as Kafka does
        log.error("Deserialization error callback failed after deserialization error for "
                  "record %s", record, exc_info=exception)
        raise HandlerCallbackError("Fatal user code error in deserialization error callback: "
                                   f"{fatal}") from fatal
    if response is DeserializationHandlerResponse.FAIL:
        raise DeserializationFailedError(
            "Deserialization exception handler is set to fail upon a deserialization error. "
            "If you would rather have the streaming pipeline continue after a deserialization "
            f"error, please set the {DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG} "
            f"appropriately. (topic {record.topic!r}, partition {record.partition}, offset "
            f"{record.offset}: {exception})") from exception
    log.warning("Skipping record due to deserialization error. topic=[%s] partition=[%s] "
                "offset=[%s]", record.topic, record.partition, record.offset, exc_info=exception)
    if on_dropped is not None:
        on_dropped()


@dataclass
class RecordDeserializer:
    """Deserializes a source record's key and value, routing failures through the handler
    (Kafka's RecordDeserializer); the task engine's source nodes use it."""

    key_deserializer: Deserializer[Any]
    value_deserializer: Deserializer[Any]
    handler: DeserializationExceptionHandler = field(default_factory=LogAndFailExceptionHandler)
    source_node_name: str | None = None
    task_id: Any = None
    dropped: int = 0

    def deserialize(self, record: ConsumerRecord) -> tuple[Any, Any] | None:
        """(key, value), or None when the record was skipped by the handler."""
        try:
            key = self.key_deserializer.deserialize(record.topic, record.key, record.headers)
            value = self.value_deserializer.deserialize(record.topic, record.value, record.headers)
        except Exception as exc:  # noqa: BLE001 - Kafka routes every runtime failure here
            context = ErrorHandlerContext(record.topic, record.partition, record.offset,
                                          record.headers, self.source_node_name, self.task_id,
                                          record.timestamp)
            handle_deserialization_failure(self.handler, context, record, exc, self._drop)
            return None
        return key, value

    def _drop(self) -> None:
        self.dropped += 1
