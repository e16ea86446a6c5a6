"""Punctuation schedules and queues, firing exactly as Kafka Streams' PunctuationQueue does.

A schedule fires when the clock reaches its time, with the CURRENT clock value; it then moves to its next time,
skipping missed intervals (one call per advance even if several intervals passed). STREAM_TIME schedules start
aligned to 0 (so they fire on the first record), WALL_CLOCK_TIME ones at now + interval.
"""
from __future__ import annotations

from typing import Any, Callable

from pystreams.processor.api import Cancellable, PunctuationType, Punctuator
from pystreams.processor.internals.java_heap import JavaPriorityQueue


class PunctuationSchedule(Cancellable):
    """One scheduled punctuator of one node."""

    __slots__ = ("node", "timestamp", "interval", "punctuator", "cancelled")

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
    """Schedules of one type ordered by time; ties broken like Kafka's (a java.util.PriorityQueue)."""

    def __init__(self, punctuation_type: PunctuationType) -> None:
        self.type = punctuation_type
        self._queue: JavaPriorityQueue[PunctuationSchedule] = JavaPriorityQueue(_time_of)

    def schedule(self, sched: PunctuationSchedule) -> PunctuationSchedule:
        self._queue.offer(sched)
        return sched

    def next_time(self) -> int | None:
        top = self._queue.peek()
        return None if top is None else top.timestamp

    def may_punctuate(self, now: int, punctuate: PunctuateFn) -> bool:
        """Fire every schedule due at `now`; True if any fired (Kafka's PunctuationQueue.maybePunctuate)."""
        queue = self._queue
        fired = False
        top = queue.peek()
        while top is not None and top.timestamp <= now:
            queue.poll()
            if not top.cancelled:
                punctuate(top, now, self.type)
                if not top.cancelled:  # it may cancel itself while running
                    top.advance(now)
                    queue.offer(top)
                fired = True
            top = queue.peek()
        return fired

    def close(self) -> None:
        self._queue.clear()

    def schedules(self) -> list[PunctuationSchedule]:
        return [s for s in self._queue._items if not s.cancelled]

    def __len__(self) -> int:
        return len(self.schedules())


def _time_of(sched: PunctuationSchedule) -> int:
    return sched.timestamp


def describe_schedules(queue: PunctuationQueue) -> list[Any]:
    """(node, next time, interval) of live schedules, for debugging and tests."""
    return sorted((s.node, s.timestamp, s.interval) for s in queue.schedules())
