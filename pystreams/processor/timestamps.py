"""Timestamp extractors with Kafka's names; `default.timestamp.extractor` picks one (FailOnInvalidTimestamp)."""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Mapping, Protocol

from pystreams.errors import ConfigError, PystreamsError

log = logging.getLogger("pystreams.processor.timestamps")

DEFAULT_TIMESTAMP_EXTRACTOR_CONFIG = "default.timestamp.extractor"


class InvalidTimestampError(PystreamsError):
    """A record has a negative timestamp and the extractor is FailOnInvalidTimestamp."""


class ConsumedRecord:
    """What an extractor sees: the deserialized record with its coordinates and embedded timestamp."""

    __slots__ = ("topic", "partition", "offset", "timestamp", "key", "value", "headers")

    def __init__(self, topic: str, partition: int, offset: int, timestamp: int, key: Any, value: Any,
                 headers: Any) -> None:
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers


class TimestampExtractor(Protocol):
    """Picks a record's event time; -1 (negative) drops the record."""

    def extract(self, record: ConsumedRecord, partition_time: int) -> int: ...


class FailOnInvalidTimestamp:
    """The record's own timestamp; a negative one stops processing (Kafka's default)."""

    def extract(self, record: ConsumedRecord, partition_time: int) -> int:
        ts = record.timestamp
        if ts < 0:
            raise InvalidTimestampError(
                f"Input record {record.topic}-{record.partition}@{record.offset} has invalid (negative) "
                f"timestamp {ts}. Use a different TimestampExtractor (default.timestamp.extractor) to "
                "process this data, e.g. LogAndSkipOnInvalidTimestamp.")
        return ts


class LogAndSkipOnInvalidTimestamp:
    """The record's own timestamp; records with a negative one are logged and skipped."""

    def extract(self, record: ConsumedRecord, partition_time: int) -> int:
        if record.timestamp < 0:
            log.warning("Input record %s-%s@%s will be dropped because it has an invalid (negative) "
                        "timestamp.", record.topic, record.partition, record.offset)
        return record.timestamp


class UsePartitionTimeOnInvalidTimestamp:
    """The record's own timestamp; a negative one is replaced by the partition time."""

    def extract(self, record: ConsumedRecord, partition_time: int) -> int:
        if record.timestamp >= 0:
            return record.timestamp
        if partition_time < 0:
            raise InvalidTimestampError(
                f"Could not infer new timestamp for input record {record.topic}-{record.partition}@"
                f"{record.offset} because partition time is unknown.")
        return partition_time


class WallclockTimestampExtractor:
    """Processing time: the machine's clock at extraction."""

    def extract(self, record: ConsumedRecord, partition_time: int) -> int:
        return int(time.time() * 1000)


class _CallableExtractor:
    def __init__(self, fn: Callable[[ConsumedRecord, int], int]) -> None:
        self.fn = fn

    def extract(self, record: ConsumedRecord, partition_time: int) -> int:
        return int(self.fn(record, partition_time))


_BY_NAME: dict[str, type] = {cls.__name__.lower(): cls for cls in (
    FailOnInvalidTimestamp, LogAndSkipOnInvalidTimestamp, UsePartitionTimeOnInvalidTimestamp,
    WallclockTimestampExtractor)}


def resolve_timestamp_extractor(value: Any) -> TimestampExtractor:
    """An extractor from an instance, class, Kafka class name, or a callable(record, partition_time)."""
    if value is None:
        return FailOnInvalidTimestamp()
    if isinstance(value, str):
        cls = _BY_NAME.get(value.rsplit(".", 1)[-1].rsplit("$", 1)[-1].lower())
        if cls is None:
            raise ConfigError(f"{DEFAULT_TIMESTAMP_EXTRACTOR_CONFIG}={value!r} is unknown: use one of "
                              f"{sorted(c.__name__ for c in _BY_NAME.values())} or pass an extractor object")
        return cls()  # type: ignore[no-any-return]
    if isinstance(value, type):
        value = value()
    if callable(getattr(value, "extract", None)):
        return value  # type: ignore[no-any-return]
    if callable(value):
        return _CallableExtractor(value)
    raise ConfigError(f"timestamp extractor {value!r} has no extract(record, partition_time) method")


def default_extractor(configs: Mapping[str, Any]) -> TimestampExtractor:
    """The app's default.timestamp.extractor."""
    return resolve_timestamp_extractor(configs.get(DEFAULT_TIMESTAMP_EXTRACTOR_CONFIG))
