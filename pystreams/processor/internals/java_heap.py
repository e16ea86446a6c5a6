"""A binary heap that breaks ties exactly as java.util.PriorityQueue does (same siftUp/siftDown).

Kafka's PartitionGroup keeps non-empty partition queues in a PriorityQueue ordered by head timestamp; which
queue wins a tie decides the processing order (and so the output order) when several partitions hold records
with equal timestamps, e.g. two repartition topics fed by one input record.
"""
from __future__ import annotations

from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class JavaPriorityQueue(Generic[T]):
    """offer/poll/peek with java.util.PriorityQueue's algorithm; `key` gives the comparison value."""

    __slots__ = ("_items", "_key")

    def __init__(self, key: Callable[[T], int]) -> None:
        self._items: list[T] = []
        self._key = key

    def __len__(self) -> int:
        return len(self._items)

    def peek(self) -> T | None:
        return self._items[0] if self._items else None

    def offer(self, item: T) -> None:
        items, key = self._items, self._key
        items.append(item)
        k = len(items) - 1
        kx = key(item)
        while k > 0:  # siftUp: stop at the first parent that is <= item
            parent = (k - 1) >> 1
            e = items[parent]
            if kx >= key(e):
                break
            items[k] = e
            k = parent
        items[k] = item

    def push_only(self, item: T) -> None:
        """offer() into an EMPTY queue."""
        self._items.append(item)

    def poll(self) -> T | None:
        items = self._items
        if not items:
            return None
        last = items.pop()
        n = len(items)
        if not n:
            return last
        result = items[0]
        key = self._key
        kx = key(last)
        k, half = 0, n >> 1
        while k < half:  # siftDown: pick the smaller child, the left one on ties
            child = 2 * k + 1
            c = items[child]
            right = child + 1
            if right < n and key(c) > key(items[right]):
                child = right
                c = items[child]
            if kx <= key(c):
                break
            items[k] = c
            k = child
        items[k] = last
        return result

    def clear(self) -> None:
        self._items.clear()
