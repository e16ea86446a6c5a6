"""Change and ValueAndTimestamp (from pystreams.state) with the small helpers Kafka's processors use."""
from __future__ import annotations

from typing import Any

from pystreams.state import Change, ValueAndTimestamp


def change(new_value: Any, old_value: Any, is_latest: bool = True) -> Any:
    """A Change; is_latest is False only for an update older than a versioned store's latest value."""
    return Change(new_value, old_value, is_latest)


def is_latest(change_value: Any) -> bool:
    """Whether a Change is the latest version for its key (always True without versioned stores)."""
    return bool(getattr(change_value, "is_latest", True))


def value_or_none(value_and_timestamp: Any) -> Any:
    """The plain value of a ValueAndTimestamp, None for None (Kafka's ValueAndTimestamp.getValueOrNull)."""
    return None if value_and_timestamp is None else value_and_timestamp.value


def make(value: Any, timestamp: int) -> Any:
    """ValueAndTimestamp(value, timestamp), or None for a None value (Kafka's ValueAndTimestamp.make)."""
    return None if value is None else ValueAndTimestamp(value, timestamp)


__all__ = ["Change", "ValueAndTimestamp", "change", "is_latest", "make", "value_or_none"]
