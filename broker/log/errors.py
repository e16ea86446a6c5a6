"""Storage errors as Kafka reports them: each names its Kafka error code (protocol.error_codes, the
one table of codes and retriability), so the server maps them to a response without a table of its own."""
from __future__ import annotations

from typing import Any, ClassVar

from pystreams.broker.protocol.error_codes import ErrorCode
from pystreams.errors import PystreamsError


class KafkaStorageError(PystreamsError):
    """Base of errors the log raises on purpose; `.code` is Kafka's protocol error code.

    A subclass names its code as a class keyword (`error=ErrorCode.X`); `code` and `retriable` follow.
    """

    code: ClassVar[int] = int(ErrorCode.UNKNOWN_SERVER_ERROR)
    retriable: ClassVar[bool] = ErrorCode.UNKNOWN_SERVER_ERROR.retriable

    def __init_subclass__(cls, error: ErrorCode | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if error is not None:
            cls.code = int(error)
            cls.retriable = error.retriable


class OffsetOutOfRangeError(KafkaStorageError, error=ErrorCode.OFFSET_OUT_OF_RANGE):
    """The fetch offset is below the log start offset or beyond the log end offset."""


class CorruptRecordError(KafkaStorageError, error=ErrorCode.CORRUPT_MESSAGE):
    """A batch fails its size or CRC-32C check; the client may resend."""


class RecordTooLargeError(KafkaStorageError, error=ErrorCode.MESSAGE_TOO_LARGE):
    """A batch is larger than max.message.bytes."""


class InvalidTopicError(KafkaStorageError, error=ErrorCode.INVALID_TOPIC_EXCEPTION):
    """A topic name Kafka would refuse (legal: [a-zA-Z0-9._-], at most 249 characters)."""


class RecordListTooLargeError(KafkaStorageError, error=ErrorCode.RECORD_LIST_TOO_LARGE):
    """A produce payload is larger than a whole segment may hold."""


class InvalidTimestampError(KafkaStorageError, error=ErrorCode.INVALID_TIMESTAMP):
    """A CreateTime timestamp lies outside message.timestamp.before/after.max.ms."""


class InvalidConfigError(KafkaStorageError, error=ErrorCode.INVALID_CONFIG):
    """A topic config value cannot be parsed; the message names the key."""


class UnsupportedForMessageFormatError(KafkaStorageError, error=ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT):
    """A batch uses a magic other than 2; only record batch v2 is stored."""


class OutOfOrderSequenceError(KafkaStorageError, error=ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER):
    """An idempotent producer skipped sequence numbers."""


class InvalidProducerEpochError(KafkaStorageError, error=ErrorCode.INVALID_PRODUCER_EPOCH):
    """A producer wrote with an epoch older than the partition has seen."""


class KafkaStorageIOError(KafkaStorageError, error=ErrorCode.KAFKA_STORAGE_ERROR):
    """The disk failed under the log."""


class InvalidRecordError(KafkaStorageError, error=ErrorCode.INVALID_RECORD):
    """A batch is well framed but its fields make no sense."""
