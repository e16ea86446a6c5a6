"""TestRecord and the driver's errors (Kafka's org.apache.kafka.streams.test.TestRecord)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Generic, Mapping, TypeVar

from pystreams.errors import PystreamsError

K = TypeVar("K")
V = TypeVar("V")

TimeLike = int | datetime


class NoSuchElementError(PystreamsError, LookupError):
    """Read from an output topic that has no (more) records (Kafka's NoSuchElementException)."""


class DriverClosedError(PystreamsError):
    """The TopologyTestDriver was closed; create a new one (or use it in a `with` block)."""


@dataclass(frozen=True)
class TestRecord(Generic[K, V]):
    """A record piped into or read from a test topic; timestamp None = the input topic's current time."""

    __test__ = False  # not a pytest test class

    key: K | None
    value: V | None
    timestamp: int | None = None
    headers: tuple[tuple[str, bytes | None], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.headers, tuple):
            object.__setattr__(self, "headers", normalize_headers(self.headers))
        if self.timestamp is not None and not isinstance(self.timestamp, int):
            object.__setattr__(self, "timestamp", to_millis(self.timestamp))

    @property
    def record_time(self) -> datetime | None:
        """The timestamp as an aware UTC datetime (Kafka's getRecordTime)."""
        return None if self.timestamp is None else datetime.fromtimestamp(self.timestamp / 1000, timezone.utc)


def normalize_headers(headers: Any) -> tuple[tuple[str, bytes | None], ...]:
    """Headers as a tuple of (key, value) pairs; a dict is accepted for convenience (one value per key)."""
    if isinstance(headers, Mapping):
        headers = headers.items()
    return tuple((str(k), v) for k, v in headers)


def to_millis(value: Any) -> int:
    """Epoch milliseconds from an int or a datetime (naive = UTC)."""
    if isinstance(value, bool):
        raise TypeError(f"a timestamp must be epoch milliseconds or a datetime, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return int(value.timestamp() * 1000)
    raise TypeError(f"a timestamp must be epoch milliseconds or a datetime, got {value!r}")


def duration_millis(value: Any) -> int:
    """Milliseconds from an int or a timedelta."""
    if isinstance(value, timedelta):
        return int(value.total_seconds() * 1000)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"a duration must be milliseconds or a timedelta, got {value!r}")
    return value
