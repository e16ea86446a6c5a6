"""Storage errors as Kafka reports them: each carries Kafka's error code and whether a client
may retry, so the server maps them to a response without a lookup table of its own."""
from __future__ import annotations

from pystreams.errors import PystreamsError


class KafkaStorageError(PystreamsError):
    """Base of errors the log raises on purpose; `.code` is Kafka's protocol error code."""

    code: int = -1
    retriable: bool = False


class OffsetOutOfRangeError(KafkaStorageError):
    """The fetch offset is below the log start offset or beyond the log end offset."""

    code = 1


class CorruptRecordError(KafkaStorageError):
    """A batch fails its size or CRC-32C check (CORRUPT_MESSAGE); the client may resend."""

    code = 2
    retriable = True


class RecordTooLargeError(KafkaStorageError):
    """A batch is larger than max.message.bytes (MESSAGE_TOO_LARGE)."""

    code = 10


class RecordListTooLargeError(KafkaStorageError):
    """A produce payload is larger than a whole segment may hold (RECORD_LIST_TOO_LARGE)."""

    code = 18


class InvalidTimestampError(KafkaStorageError):
    """A CreateTime timestamp lies outside message.timestamp.before/after.max.ms."""

    code = 32


class UnsupportedForMessageFormatError(KafkaStorageError):
    """A batch uses a magic other than 2; only record batch v2 is stored."""

    code = 43


class KafkaStorageIOError(KafkaStorageError):
    """The disk failed under the log (KAFKA_STORAGE_ERROR)."""

    code = 56
    retriable = True


class InvalidRecordError(KafkaStorageError):
    """A batch is well framed but its fields make no sense (INVALID_RECORD)."""

    code = 87


class InvalidConfigError(KafkaStorageError):
    """A topic config value cannot be parsed (INVALID_CONFIG); the message names the key."""

    code = 40


class InvalidTopicError(KafkaStorageError):
    """A topic name Kafka would refuse (legal: [a-zA-Z0-9._-], at most 249 characters)."""

    code = 17


class OutOfOrderSequenceError(KafkaStorageError):
    """An idempotent producer skipped sequence numbers (OUT_OF_ORDER_SEQUENCE_NUMBER)."""

    code = 45


class InvalidProducerEpochError(KafkaStorageError):
    """A producer wrote with an epoch older than the partition has seen (INVALID_PRODUCER_EPOCH)."""

    code = 47
