"""RecordCollector: where sinks and changelogging stores hand serialized records (Kafka's RecordCollector)."""
from __future__ import annotations

from typing import Any, NamedTuple, Protocol


class SentRecord(NamedTuple):
    """A serialized output record as a sink or a store sent it."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Any
    timestamp: int
    partition: int | None


class RecordCollector(Protocol):
    """Receives output records; the test driver keeps them, the runtime produces them to Kafka."""

    def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Any, timestamp: int,
             partition: int | None) -> None:
        """Take one serialized record (partition None = let the producer's partitioner pick)."""

    def flush(self) -> None:
        """Make every sent record durable (commit step after the stores flushed)."""

    def partitions_for(self, topic: str) -> int | None:
        """Partition count of topic when known (for custom partitioners), else None."""


class ListRecordCollector:
    """Keeps sent records in a list (tests, the TopologyTestDriver)."""

    def __init__(self) -> None:
        self.records: list[SentRecord] = []
        self.flushes = 0

    def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Any, timestamp: int,
             partition: int | None) -> None:
        self.records.append(SentRecord(topic, key, value, headers, timestamp, partition))

    def flush(self) -> None:
        self.flushes += 1

    def partitions_for(self, topic: str) -> int | None:
        return None
