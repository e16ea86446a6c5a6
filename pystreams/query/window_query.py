"""Kafka's WindowKeyQuery and WindowRangeQuery (KIP-806): windows of one key by window start, all windows in a
window-start range (window stores), or all sessions of one key (session stores). Times are epoch milliseconds
(int) or aware/naive datetimes (Kafka takes Instants)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pystreams.errors import PystreamsError


def to_millis(what: str, value: Any) -> int:
    """Epoch ms of an int or a datetime (a naive one is UTC), with a clear error otherwise."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PystreamsError(f"{what} must be epoch milliseconds (int) or a datetime, got {value!r}")
    return value


@dataclass(frozen=True)
class WindowKeyQuery:
    """(window start, value) of key's windows starting in [time_from, time_to], oldest first (window stores)."""

    key: Any
    time_from: int
    time_to: int

    @classmethod
    def with_key_and_window_start_range(cls, key: Any, time_from: Any, time_to: Any) -> WindowKeyQuery:
        if key is None:
            raise PystreamsError("WindowKeyQuery: the key cannot be None")
        return cls(key, to_millis("time_from", time_from), to_millis("time_to", time_to))

    def get_key(self) -> Any:
        return self.key

    def get_time_from(self) -> int:
        return self.time_from

    def get_time_to(self) -> int:
        return self.time_to


@dataclass(frozen=True)
class WindowRangeQuery:
    """with_key(k): (Windowed key, value) of every session of k (session stores only, as in Kafka);
    with_window_start_range(from, to): (Windowed key, value) of every window starting in the range (window stores
    only). The other store kind answers UNKNOWN_QUERY_TYPE."""

    key: Any = None
    time_from: int | None = None
    time_to: int | None = None

    @classmethod
    def with_key(cls, key: Any) -> WindowRangeQuery:
        if key is None:
            raise PystreamsError("WindowRangeQuery.with_key: the key cannot be None")
        return cls(key=key)

    @classmethod
    def with_window_start_range(cls, time_from: Any, time_to: Any) -> WindowRangeQuery:
        return cls(time_from=to_millis("time_from", time_from), time_to=to_millis("time_to", time_to))

    def get_key(self) -> Any:
        return self.key

    def get_time_from(self) -> int | None:
        return self.time_from

    def get_time_to(self) -> int | None:
        return self.time_to
