"""Kafka's Position and PositionBound: how far a store partition has read its input, per input topic-partition,
and the least position a query asks the answering store to have reached (KIP-796 consistency).

pystreams' store position is the task's: for each input topic-partition of the task, an offset the store has
surely applied, read from what the task keeps for its commits (query.runner.task_position), so queries add
nothing to the per-record path; the store may be ahead of its position, never behind.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pystreams.errors import PystreamsError


class Position:
    """topic -> partition -> offset; mutable like Kafka's (with_component and merge keep the larger offset)."""

    __slots__ = ("_position",)

    def __init__(self, position: dict[str, dict[int, int]] | None = None) -> None:
        self._position: dict[str, dict[int, int]] = position if position is not None else {}

    @classmethod
    def empty_position(cls) -> Position:
        return cls()

    @classmethod
    def from_map(cls, offsets: Mapping[str, Mapping[int, int]]) -> Position:
        """A Position holding a copy of {topic: {partition: offset}}."""
        position = cls()
        for topic, partitions in offsets.items():
            for partition, offset in partitions.items():
                position.with_component(topic, partition, offset)
        return position

    def with_component(self, topic: str, partition: int, offset: int) -> Position:
        """Add (or raise) one topic-partition's offset; returns self, as Kafka's does."""
        if not isinstance(topic, str) or not topic:
            raise PystreamsError(f"a Position topic must be a non-empty str, got {topic!r}")
        for what, number in (("partition", partition), ("offset", offset)):
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise PystreamsError(f"a Position {what} must be an int >= 0, got {number!r}")
        partitions = self._position.setdefault(topic, {})
        prior = partitions.get(partition)
        if prior is None or offset > prior:
            partitions[partition] = offset
        return self

    def copy(self) -> Position:
        return Position({topic: dict(partitions) for topic, partitions in self._position.items()})

    def merge(self, other: Position | None) -> Position:
        """Take the larger offset of every topic-partition in other; returns self."""
        if other is not None:
            for topic, partitions in other._position.items():
                for partition, offset in partitions.items():
                    self.with_component(topic, partition, offset)
        return self

    def get_topics(self) -> frozenset[str]:
        return frozenset(self._position)

    def get_partition_positions(self, topic: str) -> dict[int, int]:
        """partition -> offset of topic (a copy; empty when the topic is not in this position)."""
        return dict(self._position.get(topic, {}))

    def is_empty(self) -> bool:
        return not self._position

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Position) and self._position == other._position

    __hash__ = None  # type: ignore[assignment]  # mutable, as Kafka says: not a hash key

    def __repr__(self) -> str:
        return f"Position{{position={self._position}}}"


class PositionBound:
    """The position a query needs the store partition to have reached: unbounded() or at(position)."""

    __slots__ = ("_position",)

    def __init__(self, position: Position) -> None:
        if not isinstance(position, Position):
            raise PystreamsError(f"PositionBound takes a Position, got {type(position).__name__}")
        self._position = position.copy()

    @classmethod
    def unbounded(cls) -> PositionBound:
        """No bound: any position answers."""
        return cls(Position.empty_position())

    @classmethod
    def at(cls, position: Position) -> PositionBound:
        """Kafka's PositionBound.at: the store partition must have processed at least these offsets."""
        return cls(position)

    at_least = at  # the same bound, named for what it means (Kafka only has at())

    def is_unbounded(self) -> bool:
        return self._position.is_empty()

    def position(self) -> Position:
        return self._position.copy()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PositionBound) and self._position == other._position

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PositionBound{{position={self._position}}}"


def is_permitted(position: Position, bound: PositionBound, partition: int) -> bool:
    """Kafka's StoreQueryUtils.isPermitted: for every topic of the bound with an offset for this partition, the
    position has that partition at or past it (a bounded partition the position has not seen: not permitted)."""
    bounds: Any = bound._position._position
    for topic, partitions in bounds.items():
        wanted = partitions.get(partition)
        if wanted is None:
            continue  # the bound says nothing about our partition of this topic
        seen = position._position.get(topic, {}).get(partition)
        if seen is None or seen < wanted:
            return False
    return True
