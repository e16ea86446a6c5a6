"""A stream thread's counters (Kafka's stream-thread metrics) and its records-lag, refreshed by the thread itself.

Readers (the /metrics HTTP thread, KafkaStreams.metrics()) only read these fields: a librdkafka consumer is not
called from any thread but its own stream thread, so a scrape never waits on (or races with) the poll loop.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from confluent_kafka import KafkaException, TopicPartition

log = logging.getLogger("pystreams.runtime")

#: how often the stream thread recomputes records-lag (positions and cached watermarks: local calls, no request)
LAG_REFRESH_S = 1.0


class ThreadMetrics:
    """Counters the summary line and metrics() read (Kafka's thread-level metric meanings)."""

    def __init__(self) -> None:
        self.processed = 0
        self.commits = 0
        self.restored = 0
        self.restore_total = 0
        self.polls = 0
        self.lag = 0  # records-lag of the assigned input partitions, as of lag_at
        self.lag_at = 0.0  # time.monotonic() of the last lag refresh (0: never)
        self.last_commit_ms = 0.0
        self.started = time.monotonic()
        self.process_ms = 0.0  # wall time inside task.process(), for process-latency-avg
        self.process_latency_max_ms = 0.0  # per-record average of the slowest batch
        self.restore_rate = 0.0

    def refresh_lag(self, consumer: Any, partitions: Iterable[tuple[str, int]], now: float,
                    every: float = LAG_REFRESH_S) -> None:
        """On the stream thread only: records behind the end of the assigned input partitions (positions and the
        watermarks librdkafka cached from its fetches), at most once per `every` seconds."""
        if now - self.lag_at < every:
            return
        self.lag_at = now
        tps = [TopicPartition(t, p) for t, p in partitions]
        if consumer is None or not tps:
            self.lag = 0
            return
        total = 0
        try:
            for tp in consumer.position(tps):
                _low, high = consumer.get_watermark_offsets(tp, cached=True)
                if tp.offset >= 0 and high >= 0:
                    total += max(0, high - tp.offset)
        except (KafkaException, RuntimeError) as e:  # keep the last value
            log.debug("records-lag refresh failed: %s", e)
            return
        self.lag = total
