"""Fetched lags of input partitions for task idling (Kafka: Consumer.currentLag, used by PartitionGroup.updateLags).

Java's consumer knows a partition's lag once a fetch answered (high watermark, or the last stable offset under
read_committed) and its position is known. librdkafka gives the same pieces without a broker round trip:
position() (the offset after the last message handed to the application) and get_watermark_offsets(cached=True)
(the watermarks of the last fetch answer; (-1001, -1001) before the first). Measured: ~1 us per partition.

Two librdkafka differences, handled here:
- position() stays OFFSET_INVALID until a message of the partition was consumed (Java knows it from the committed
  offset). Then the lag is counted from the offset the partition was assigned at (consumer.assignment() keeps it):
  an absolute offset, OFFSET_BEGINNING (the log start) or OFFSET_END (caught up).
- The cached high watermark is the high watermark also under read_committed (Java uses the last stable offset),
  so while a transaction is open on an input partition its lag shows the open records too.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, KafkaException, TopicPartition


def fetched_lag(position: int, low: int, high: int, start: int | None) -> int | None:
    """Records of a partition on the broker the application has not consumed yet; None when unknown.

    position: consumer.position() (< 0: nothing consumed yet); low/high: cached watermarks (< 0: no fetch answer
    yet); start: the offset the partition was assigned at (an offset, OFFSET_BEGINNING, OFFSET_END or None)."""
    if high < 0:
        return None
    if position >= 0:
        return max(0, high - position)
    if start is None:
        return None
    if start == OFFSET_END:
        return 0
    if start == OFFSET_BEGINNING:
        return max(0, high - low) if low >= 0 else None
    if start >= 0:
        return max(0, high - max(start, low))
    return None


def consumer_lags(consumer: Any, partitions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int | None]:
    """(topic, partition) -> fetched lag (None: unknown) from the consumer's cached state: no broker request.

    consumer.assignment() (for the start offsets) is read only when a partition has consumed nothing yet."""
    tps = [TopicPartition(t, p) for t, p in partitions]
    if not tps:
        return {}
    try:
        positions = consumer.position(tps)
    except (KafkaException, RuntimeError):
        return {(tp.topic, tp.partition): None for tp in tps}
    lags: dict[tuple[str, int], int | None] = {}
    starts: dict[tuple[str, int], int] | None = None
    for tp in positions:
        key = (tp.topic, tp.partition)
        try:
            low, high = consumer.get_watermark_offsets(tp, cached=True)
        except (KafkaException, RuntimeError):
            lags[key] = None
            continue
        start = None
        if tp.offset < 0 <= high:
            if starts is None:
                try:
                    starts = {(a.topic, a.partition): a.offset for a in consumer.assignment()}
                except (KafkaException, RuntimeError):
                    starts = {}
            start = starts.get(key)
        lags[key] = fetched_lag(tp.offset, low, high, start)
    return lags
