"""processing.poll_records: Java's poll() over librdkafka's consume() (return what is ready, block only when
nothing is, for the first record, then add what else is ready)."""
from __future__ import annotations

import pytest

from pystreams.runtime.processing import poll_records

pytestmark = pytest.mark.unit


class FakeConsumer:
    """consume(n, timeout) like librdkafka: up to n of the queued messages; when none are queued and timeout > 0,
    the messages that `arrive` during the wait are queued (the wait ends at the first one)."""

    def __init__(self, queued: list[int], arrive: list[int] | None = None) -> None:
        self.queued = list(queued)
        self.arrive = list(arrive or [])
        self.calls: list[tuple[int, float]] = []

    def consume(self, num_messages: int, timeout: float) -> list[int]:
        self.calls.append((num_messages, timeout))
        if not self.queued and timeout > 0:
            self.queued, self.arrive = self.arrive, []
        out, self.queued = self.queued[:num_messages], self.queued[num_messages:]
        return out


def test_ready_records_are_returned_without_waiting() -> None:
    c = FakeConsumer(queued=[1, 2, 3])
    assert poll_records(c, 1000, 0.1) == [1, 2, 3]
    assert c.calls == [(1000, 0)]


def test_at_most_max_records() -> None:
    c = FakeConsumer(queued=list(range(10)))
    assert poll_records(c, 4, 0.1) == [0, 1, 2, 3]
    assert poll_records(c, 4, 0.1) == [4, 5, 6, 7]
    assert c.calls == [(4, 0), (4, 0)]


def test_empty_queue_blocks_for_the_first_record_then_takes_the_rest_ready() -> None:
    c = FakeConsumer(queued=[], arrive=[7, 8, 9])
    assert poll_records(c, 2, 0.25) == [7, 8]
    assert c.calls == [(2, 0), (1, 0.25), (1, 0)]
    assert c.queued == [9]  # left for the next poll, max_records respected


def test_nothing_arrives_within_the_timeout() -> None:
    c = FakeConsumer(queued=[])
    assert poll_records(c, 1000, 0.1) == []
    assert c.calls == [(1000, 0), (1, 0.1)]


def test_zero_timeout_never_blocks() -> None:
    c = FakeConsumer(queued=[], arrive=[1])
    assert poll_records(c, 1000, 0) == []
    assert c.calls == [(1000, 0)]


def test_max_records_one() -> None:
    c = FakeConsumer(queued=[], arrive=[5, 6])
    assert poll_records(c, 1, 0.1) == [5]
    assert c.calls == [(1, 0), (1, 0.1)]
