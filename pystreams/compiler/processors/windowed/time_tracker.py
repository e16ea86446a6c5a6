"""Kafka's TimeTracker: stream time, the oldest pending timestamp and wall-clock throttling of emits."""
from __future__ import annotations

from typing import Any, Mapping

NO_TIMESTAMP = -1
LONG_MAX = (1 << 63) - 1
EMIT_INTERVAL_WINDOWED_AGGREGATION = "__emit.interval.ms.kstreams.windowed.aggregation__"
EMIT_INTERVAL_OUTER_JOIN = "__emit.interval.ms.kstreams.outer.join.spurious.results.fix__"


class TimeTracker:
    """Shared by the two sides of a stream-stream join in one task; one per windowed aggregate processor."""

    def __init__(self) -> None:
        self.emit_interval_ms = 1000
        self.next_time_to_emit = 0
        self.stream_time = NO_TIMESTAMP
        self.min_time = LONG_MAX

    def set_emit_interval(self, ms: int) -> None:
        self.emit_interval_ms = ms

    def advance_stream_time(self, timestamp: int) -> None:
        self.stream_time = max(self.stream_time, timestamp)

    def updated_min_time(self, timestamp: int) -> None:
        self.min_time = min(self.min_time, timestamp)

    def advance_next_time_to_emit(self) -> None:
        self.next_time_to_emit += self.emit_interval_ms


def emit_interval(configs: Mapping[str, Any], key: str) -> int:
    """Kafka's internal emit-interval configs (default 1000 ms of wall-clock time between emit checks)."""
    value = configs.get(key)
    return 1000 if value is None else int(value)
