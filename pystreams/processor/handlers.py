"""Processing exception handlers (Kafka 3.9+, KIP-1033): what to do when a processor raises.

`processing.exception.handler` picks one: LogAndFailProcessingExceptionHandler (the default: the task stops)
or LogAndContinueProcessingExceptionHandler (the record is logged, counted as dropped and skipped).
"""
from __future__ import annotations

import enum
import importlib
import logging
from typing import Any, Mapping, Protocol

from pystreams.errors import ConfigError
from pystreams.serdes.handlers import ErrorHandlerContext

log = logging.getLogger("pystreams.processor.handlers")

PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG = "processing.exception.handler"


class ProcessingHandlerResponse(enum.Enum):
    """Kafka's ProcessingExceptionHandler.ProcessingHandlerResponse."""

    CONTINUE = 1
    FAIL = 2


class ProcessingExceptionHandler(Protocol):
    """Decides whether an exception thrown by a processor skips the record or stops the task."""

    def handle(self, context: ErrorHandlerContext, record: Any, exception: Exception) -> ProcessingHandlerResponse: ...


def _import_handler(config: str, value: str) -> Any:
    """The class (or object) an importable 'package.module:Class' or 'package.module.Class' names: a handler of
    the app's own, set by name (e.g. `pystreams run --set production.exception.handler=app.handlers:Skip`)."""
    module_name, sep, attr = value.partition(":")
    if not sep:
        module_name, _, attr = value.rpartition(".")
    if not module_name or not attr or module_name.startswith("org.apache.kafka"):
        raise ConfigError(f"{config}={value!r} is not a known handler and not an importable 'package.module:Class'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as e:
        raise ConfigError(f"{config}={value!r}: cannot import module {module_name!r} ({e})") from e
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as e:
            raise ConfigError(f"{config}={value!r}: module {module_name!r} has no {attr!r}") from e
    return obj


def _log_failure(level: int, context: ErrorHandlerContext, exception: Exception) -> None:
    """Kafka's log line for a processor that raised (both built-in handlers write it)."""
    log.log(level, "Exception caught during message processing, processor node: %s, taskId: %s, source topic: %s, "
            "source partition: %s, source offset: %s", context.processor_node_id, context.task_id,
            context.topic, context.partition, context.offset, exc_info=exception, stacklevel=2)


class LogAndFailProcessingExceptionHandler:
    """Log and stop (the default): a failing processor never loses records silently."""

    def handle(self, context: ErrorHandlerContext, record: Any, exception: Exception) -> ProcessingHandlerResponse:
        _log_failure(logging.ERROR, context, exception)
        return ProcessingHandlerResponse.FAIL

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Nothing to configure."""


class LogAndContinueProcessingExceptionHandler:
    """Log a warning and skip the record: for apps where one bad record must not stop processing."""

    def handle(self, context: ErrorHandlerContext, record: Any, exception: Exception) -> ProcessingHandlerResponse:
        _log_failure(logging.WARNING, context, exception)
        return ProcessingHandlerResponse.CONTINUE

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Nothing to configure."""


_BY_NAME = {cls.__name__.lower(): cls for cls in (LogAndFailProcessingExceptionHandler,
                                                  LogAndContinueProcessingExceptionHandler)}


def resolve_processing_handler(configs: Mapping[str, Any]) -> Any:
    """The handler named by processing.exception.handler (class name, class or instance); LogAndFail by default."""
    value = configs.get(PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG)
    if value is None:
        return LogAndFailProcessingExceptionHandler()
    if isinstance(value, str):
        cls = _BY_NAME.get(value.rsplit(".", 1)[-1].lower())
        if cls is None and (":" in value or ("." in value and not value.startswith("org.apache.kafka"))):
            cls = _import_handler(PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, value)
        if cls is None:
            raise ConfigError(f"{PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG}={value!r} is unknown: use "
                              "LogAndContinueProcessingExceptionHandler or LogAndFailProcessingExceptionHandler, "
                              "an importable 'package.module:Class', or pass a handler object with "
                              "handle(context, record, exception)")
        value = cls
    handler = value() if isinstance(value, type) else value
    if not callable(getattr(handler, "handle", None)):
        raise ConfigError(f"{PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG}={value!r} has no "
                          "handle(context, record, exception) method")
    configure = getattr(handler, "configure", None)
    if callable(configure):
        configure(dict(configs))
    return handler


PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG = "production.exception.handler"
#: Kafka's name before 4.0 (KIP-1033 renamed it); still honoured when the new key is not set
DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG = "default.production.exception.handler"
_warned_both_production_keys: list[bool] = []  # Kafka's "Both the deprecated and new config" warning, once


class ProductionHandlerResponse(enum.Enum):
    """Kafka's ProductionExceptionHandler.ProductionExceptionHandlerResponse."""

    CONTINUE = 0
    FAIL = 1
    RETRY = 2


class SerializationExceptionOrigin(enum.Enum):
    """Whether the key or the value failed to serialize."""

    KEY = "KEY"
    VALUE = "VALUE"


class DefaultProductionExceptionHandler:
    """Kafka's default: a record that cannot be serialized (or sent) stops the task."""

    def handle_serialization_exception(self, context: ErrorHandlerContext, record: Any, exception: Exception,
                                       origin: SerializationExceptionOrigin) -> ProductionHandlerResponse:
        return ProductionHandlerResponse.FAIL

    def handle(self, context: ErrorHandlerContext, record: Any, exception: Exception) -> ProductionHandlerResponse:
        """A record the producer could not send (refused by produce() or in a failed delivery report): `record`
        is the serialized SentRecord, `exception` a confluent_kafka.KafkaException whose args[0] is the
        KafkaError (e.g. MSG_SIZE_TOO_LARGE). CONTINUE drops the record; FAIL stops the thread; RETRY only for a
        retriable error (otherwise FAIL). Authorization, fencing and fatal producer errors never get here."""
        return ProductionHandlerResponse.FAIL

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Nothing to configure."""


def resolve_production_handler(configs: Mapping[str, Any]) -> Any:
    """The handler named by production.exception.handler (an instance or class); Kafka's default otherwise. It
    needs handle_serialization_exception(context, record, exception, origin) for records a sink cannot serialize
    and/or handle(context, record, exception) for records the producer could not send; a missing one answers FAIL,
    like the Java interface's default methods. The deprecated default.production.exception.handler is honoured
    when the new key is not set (as Kafka 4.x's StreamsConfig.productionExceptionHandler())."""
    key = PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG
    value = configs.get(key)
    deprecated = configs.get(DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG)
    if value is not None and deprecated is not None:
        if not _warned_both_production_keys:
            _warned_both_production_keys.append(True)
            log.warning("Both the deprecated and new config for production exception handler are configured. "
                        "The deprecated one will be ignored.")
    elif value is None and deprecated is not None:
        key, value = DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, deprecated
    if value is None or (isinstance(value, str) and value.rsplit(".", 1)[-1] == "DefaultProductionExceptionHandler"):
        return DefaultProductionExceptionHandler()
    if isinstance(value, str):
        if not (":" in value or ("." in value and not value.startswith("org.apache.kafka"))):
            raise ConfigError(f"{key}={value!r} is unknown: pass a handler "
                              "object (or class, or an importable 'package.module:Class') with "
                              "handle_serialization_exception(context, record, exception, origin) and/or "
                              "handle(context, record, exception)")
        value = _import_handler(key, value)
    handler = value() if isinstance(value, type) else value
    if not (callable(getattr(handler, "handle_serialization_exception", None))
            or callable(getattr(handler, "handle", None))):
        raise ConfigError(f"{key}={value!r} has neither "
                          "handle_serialization_exception(context, record, exception, origin) nor "
                          "handle(context, record, exception)")
    configure = getattr(handler, "configure", None)
    if callable(configure):
        configure(dict(configs))
    return handler
