"""KeyValue: Kafka's pair type; a NamedTuple so `map` may return KeyValue(k, v) or a plain (k, v)."""
from __future__ import annotations

from typing import Generic, NamedTuple, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class KeyValue(NamedTuple, Generic[K, V]):
    """A key and a value (Kafka's KeyValue; KeyValue.pair(k, v) also works)."""

    key: K
    value: V

    @classmethod
    def pair(cls, key: K, value: V) -> KeyValue[K, V]:
        """Kafka's KeyValue.pair."""
        return cls(key, value)
