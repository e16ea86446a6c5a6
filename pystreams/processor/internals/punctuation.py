"""Punctuation schedules and queues, firing exactly as Kafka Streams' PunctuationQueue does.

A schedule fires when the clock reaches its time, with the CURRENT clock value; it then moves to its next time,
skipping missed intervals (one call per advance even if several intervals passed). STREAM_TIME schedules start
aligned to 0 (so they fire on the first record), WALL_CLOCK_TIME ones at now + interval.
"""
from __future__ import annotations

import heapq
import itertools
from typing import Any, Callable

from pystreams.processor.api import Cancellable, PunctuationType, Punctuator


class PunctuationSchedule(Cancellable):
    """One scheduled punctuator of one node."""

    __slots__ = ("node", "timestamp", "interval", "punctuator", "cancelled", "_seq")

    def __init__(self, node: str, timestamp: int, interval: int, punctuator: Punctuator) -> None:
        self.node = node
        self.timestamp = timestamp
        self.interval = interval
        self.punctuator = punctuator
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def advance(self, current: int) -> None:
        """Kafka's PunctuationSchedule.next: the next time after `current`, missed intervals skipped."""
        nxt = self.timestamp + self.interval
        if current >= nxt:
            missed = (current - self.timestamp) // self.interval
            nxt = self.timestamp + (missed + 1) * self.interval
        self.timestamp = nxt


PunctuateFn = Callable[[PunctuationSchedule, int, PunctuationType], None]


class PunctuationQueue:
    """Schedules of one type ordered by time (ties: order of scheduling)."""

    def __init__(self, punctuation_type: PunctuationType) -> None:
        self.type = punctuation_type
        self._heap: list[tuple[int, int, PunctuationSchedule]] = []
        self._seq = itertools.count()

    def schedule(self, sched: PunctuationSchedule) -> PunctuationSchedule:
        heapq.heappush(self._heap, (sched.timestamp, next(self._seq), sched))
        return sched

    def next_time(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def may_punctuate(self, now: int, punctuate: PunctuateFn) -> bool:
        """Fire every schedule due at `now`; True if any fired."""
        heap = self._heap
        fired = False
        while heap and heap[0][0] <= now:
            _, _, sched = heapq.heappop(heap)
            if sched.cancelled:
                continue
            punctuate(sched, now, self.type)
            if not sched.cancelled:  # it may cancel itself while running
                sched.advance(now)
                heapq.heappush(heap, (sched.timestamp, next(self._seq), sched))
            fired = True
        return fired

    def close(self) -> None:
        self._heap.clear()

    def __len__(self) -> int:
        return sum(1 for *_, s in self._heap if not s.cancelled)


def describe_schedules(queue: PunctuationQueue) -> list[Any]:
    """(node, next time, interval) of live schedules, for debugging and tests."""
    return sorted((s.node, s.timestamp, s.interval) for *_, s in queue._heap if not s.cancelled)
