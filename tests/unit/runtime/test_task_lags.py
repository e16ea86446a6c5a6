"""Fetched lags from librdkafka's cached state (runtime/task_lags.py), with a fake consumer."""
from __future__ import annotations

import pytest
from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, OFFSET_INVALID, TopicPartition

from pystreams.runtime.task_lags import consumer_lags, fetched_lag

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("position,low,high,start,lag", [
    (OFFSET_INVALID, OFFSET_INVALID, OFFSET_INVALID, 0, None),  # no fetch answer yet
    (5, 0, 12, 0, 7),
    (12, 0, 12, 0, 0),
    (13, 0, 12, 0, 0),  # never negative
    (OFFSET_INVALID, 0, 0, 0, 0),  # empty partition, nothing consumed
    (OFFSET_INVALID, 0, 10, 10, 0),  # restarted at its committed end offset
    (OFFSET_INVALID, 0, 10, 4, 6),
    (OFFSET_INVALID, 6, 10, 2, 4),  # committed offset below the log start: read from the log start
    (OFFSET_INVALID, 3, 10, OFFSET_BEGINNING, 7),
    (OFFSET_INVALID, 3, 10, OFFSET_END, 0),
    (OFFSET_INVALID, 3, 10, None, None),  # start unknown
    (OFFSET_INVALID, 3, 10, OFFSET_INVALID, None),
])
def test_fetched_lag(position, low, high, start, lag):
    assert fetched_lag(position, low, high, start) == lag


class FakeConsumer:
    def __init__(self, positions, watermarks, assigned):
        self.positions, self.watermarks, self.assigned = positions, watermarks, assigned
        self.assignment_calls = 0

    def position(self, tps):
        return [TopicPartition(tp.topic, tp.partition, self.positions[(tp.topic, tp.partition)]) for tp in tps]

    def get_watermark_offsets(self, tp, timeout=None, cached=False):
        assert cached, "task idling must never ask the broker"
        return self.watermarks[(tp.topic, tp.partition)]

    def assignment(self):
        self.assignment_calls += 1
        return [TopicPartition(t, p, o) for (t, p), o in self.assigned.items()]


def test_consumer_lags_reads_positions_and_cached_watermarks():
    consumer = FakeConsumer({("s", 0): 4, ("t", 0): OFFSET_INVALID, ("u", 0): OFFSET_INVALID},
                            {("s", 0): (0, 10), ("t", 0): (0, 8), ("u", 0): (OFFSET_INVALID, OFFSET_INVALID)},
                            {("s", 0): 0, ("t", 0): 3, ("u", 0): OFFSET_BEGINNING})
    assert consumer_lags(consumer, [("s", 0), ("t", 0), ("u", 0)]) == {("s", 0): 6, ("t", 0): 5, ("u", 0): None}
    assert consumer.assignment_calls == 1


def test_consumer_lags_skips_the_assignment_when_every_position_is_known():
    consumer = FakeConsumer({("s", 0): 4, ("t", 0): 8}, {("s", 0): (0, 10), ("t", 0): (0, 8)}, {})
    assert consumer_lags(consumer, [("s", 0), ("t", 0)]) == {("s", 0): 6, ("t", 0): 0}
    assert consumer.assignment_calls == 0
    assert consumer_lags(consumer, []) == {}
