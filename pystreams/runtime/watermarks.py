"""Watermark offsets with bounded retries.

Apache Kafka answers CreateTopics before every broker knows the new partitions' leaders, so the first ListOffsets
for a changelog created moments ago can fail with NOT_LEADER_FOR_PARTITION / LEADER_NOT_AVAILABLE /
UNKNOWN_TOPIC_OR_PART. Those are retriable: wait and ask again, up to the caller's timeout, like Kafka's clients.
"""
from __future__ import annotations

import time
from typing import Any

from confluent_kafka import KafkaError, KafkaException, TopicPartition

_RETRIABLE = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE,
              KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError.REQUEST_TIMED_OUT, KafkaError._TIMED_OUT,
              KafkaError._TRANSPORT, KafkaError.NOT_COORDINATOR}


def watermarks(consumer: Any, tp: TopicPartition, timeout: float = 30.0, cached: bool = False) -> tuple[int, int]:
    """(low, high) watermarks of `tp`; retriable broker answers are retried with backoff until `timeout` s."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        left = deadline - time.monotonic()
        try:
            low, high = consumer.get_watermark_offsets(tp, timeout=max(left, 0.1), cached=cached)
            return int(low), int(high)
        except KafkaException as e:
            err = e.args[0] if e.args else None
            retriable = isinstance(err, KafkaError) and (err.code() in _RETRIABLE or err.retriable())
            if not retriable or time.monotonic() + delay >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
