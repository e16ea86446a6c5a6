"""records-lag: the stream thread computes it from its own consumer (positions and cached high watermarks), at most
once per refresh interval; /metrics (StreamsCollector, the HTTP thread) only reads the cached value."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaException, TopicPartition

from pystreams.runtime.server import StreamsCollector
from pystreams.runtime.thread_metrics import ThreadMetrics

pytestmark = pytest.mark.unit


class FakeConsumer:
    """position() and get_watermark_offsets(cached=True) like librdkafka's, over dicts the test moves."""

    def __init__(self, positions: dict[tuple[str, int], int], ends: dict[tuple[str, int], int]) -> None:
        self.positions, self.ends, self.calls, self.fail = positions, ends, 0, False

    def position(self, tps: list[TopicPartition]) -> list[TopicPartition]:
        self.calls += 1
        if self.fail:
            raise KafkaException("broken")
        return [TopicPartition(tp.topic, tp.partition, self.positions.get((tp.topic, tp.partition), -1001))
                for tp in tps]

    def get_watermark_offsets(self, tp: TopicPartition, cached: bool = False) -> tuple[int, int]:
        assert cached, "the lag refresh must not send a ListOffsets request from the poll loop"
        return 0, self.ends.get((tp.topic, tp.partition), -1001)


def test_lag_is_behind_then_zero_when_caught_up_and_refreshed_at_most_once_per_interval():
    consumer = FakeConsumer({("in", 0): 10, ("in", 1): 5}, {("in", 0): 40, ("in", 1): 5})
    m = ThreadMetrics()
    parts = [("in", 0), ("in", 1)]
    m.refresh_lag(consumer, parts, now=100.0)
    assert m.lag == 30 and consumer.calls == 1
    consumer.positions[("in", 0)] = 40
    m.refresh_lag(consumer, parts, now=100.5)  # within the interval: the cached value stays
    assert m.lag == 30 and consumer.calls == 1
    m.refresh_lag(consumer, parts, now=101.0)
    assert m.lag == 0 and consumer.calls == 2


def test_unknown_offsets_count_nothing_and_no_partitions_mean_zero():
    consumer = FakeConsumer({("in", 0): -1001, ("in", 1): 3}, {("in", 0): 50})  # no position / no watermark yet
    m = ThreadMetrics()
    m.refresh_lag(consumer, [("in", 0), ("in", 1)], now=10.0)
    assert m.lag == 0
    m.lag = 7
    m.refresh_lag(consumer, [], now=20.0)
    assert m.lag == 0


def test_a_failed_refresh_keeps_the_last_value():
    consumer = FakeConsumer({("in", 0): 1}, {("in", 0): 9})
    m = ThreadMetrics()
    m.refresh_lag(consumer, [("in", 0)], now=1.0)
    consumer.fail = True
    m.refresh_lag(consumer, [("in", 0)], now=5.0)
    assert m.lag == 8


class ExplodingConsumer:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"/metrics called the consumer ({name}) from the HTTP thread")


def test_metrics_scrape_reads_the_cached_lag_and_never_touches_the_consumer():
    metrics = ThreadMetrics()
    metrics.lag = 123
    alive = SimpleNamespace(name="app-StreamThread-1", metrics=metrics, tasks={}, _consumer=ExplodingConsumer(),
                            is_alive=lambda: True)
    gone = SimpleNamespace(name="app-StreamThread-2", metrics=ThreadMetrics(), tasks={},
                           _consumer=ExplodingConsumer(), is_alive=lambda: False)
    gone.metrics.lag = 5
    streams = SimpleNamespace(client_id="app", threads=[alive, gone])
    families = {f.name: f for f in StreamsCollector(streams).collect()}
    lag = {s.labels["thread_id"]: s.value for s in families["kafka_consumer_records_lag"].samples}
    assert lag == {"app-StreamThread-1": 123, "app-StreamThread-2": 0}
