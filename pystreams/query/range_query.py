"""Kafka's RangeQuery and TimestampedRangeQuery: the pairs of a key range (or of the whole store) of a key-value
store, in serialized-key order (KIP-805, KIP-969, KIP-992). None as a bound: that end is open."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pystreams.query.result_order import ResultOrder


@dataclass(frozen=True)
class _Range:
    lower: Any = None
    upper: Any = None
    order: ResultOrder = ResultOrder.ANY

    @classmethod
    def with_range(cls, lower: Any, upper: Any) -> Any:
        """lower <= key <= upper (None: open end)."""
        return cls(lower, upper)

    @classmethod
    def with_lower_bound(cls, lower: Any) -> Any:
        return cls(lower, None)

    @classmethod
    def with_upper_bound(cls, upper: Any) -> Any:
        return cls(None, upper)

    @classmethod
    def with_no_bounds(cls) -> Any:
        """Every pair of the store (a scan)."""
        return cls()

    def with_descending_keys(self) -> Any:
        return replace(self, order=ResultOrder.DESCENDING)

    def with_ascending_keys(self) -> Any:
        return replace(self, order=ResultOrder.ASCENDING)

    def result_order(self) -> ResultOrder:
        return self.order

    def get_lower_bound(self) -> Any:
        return self.lower

    def get_upper_bound(self) -> Any:
        return self.upper


class RangeQuery(_Range):
    """(key, plain value) pairs of a key range; each partition's result is a KeyValueIterator."""


class TimestampedRangeQuery(_Range):
    """(key, ValueAndTimestamp) pairs of a key range of a timestamped key-value store."""

    def lower_bound(self) -> Any:  # Kafka's TimestampedRangeQuery.lowerBound()
        return self.lower

    def upper_bound(self) -> Any:
        return self.upper
