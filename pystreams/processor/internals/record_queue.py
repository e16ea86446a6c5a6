"""Per-partition input queues (Kafka's RecordQueue/PartitionGroup): raw records become a deserialized head
with an extracted timestamp; the task always processes the head with the smallest timestamp next."""
from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from pystreams.processor.internals.nodes import SourceRuntime
from pystreams.processor.timestamps import ConsumedRecord, FailOnInvalidTimestamp
from pystreams.serdes.handlers import ConsumerRecord, ErrorHandlerContext, handle_deserialization_failure

if TYPE_CHECKING:
    from pystreams.processor.internals.task import StreamTask

log = logging.getLogger("pystreams.processor.internals")

RawRecord = tuple[int, int, "bytes | None", "bytes | None", Any]
"""(offset, timestamp, key bytes, value bytes, headers) as consumed."""

Head = tuple[int, Any, Any, Any, int]
"""(extracted timestamp, key, value, headers, offset)."""


class RecordQueue:
    """The buffered records of one input partition."""

    __slots__ = ("topic", "partition", "source", "raw", "head", "partition_time", "task", "_fast_ts",
                 "next_offset")

    def __init__(self, task: StreamTask, topic: str, partition: int, source: SourceRuntime) -> None:
        self.task = task
        self.topic = topic
        self.partition = partition
        self.source = source
        self.raw: deque[RawRecord] = deque()
        self.head: Head | None = None
        self.partition_time = -1
        self.next_offset = -1  # offset after the last processed record: what a commit stores
        self._fast_ts = type(source.extractor) is FailOnInvalidTimestamp

    def __len__(self) -> int:
        return len(self.raw) + (self.head is not None)

    def add(self, records: list[RawRecord]) -> None:
        self.raw.extend(records)
        if self.head is None:
            self.update_head()

    def update_head(self) -> None:
        """Deserialize raw records until one is valid (failures go to the deserialization handler)."""
        raw, source, topic = self.raw, self.source, self.topic
        while self.head is None and raw:
            offset, ts, kb, vb, headers = raw.popleft()
            try:
                key = source.key_deserialize(topic, kb, headers)
                value = source.value_deserialize(topic, vb, headers)
            except Exception as e:  # noqa: BLE001 - every failure goes to the handler, as in Kafka
                task = self.task
                handle_deserialization_failure(
                    task.deserialization_handler,
                    ErrorHandlerContext(topic, self.partition, offset, headers, source.name, task.id, ts),
                    ConsumerRecord(topic, self.partition, offset, ts, kb, vb, headers), e,
                    task.metrics.record_dropped)
                continue
            if self._fast_ts and ts >= 0:
                event_ts = ts
            else:
                event_ts = source.extractor.extract(
                    ConsumedRecord(topic, self.partition, offset, ts, key, value, headers), self.partition_time)
            if event_ts < 0:
                log.warning("Skipping record due to negative extracted timestamp. topic=[%s] partition=[%s] "
                            "offset=[%s] extractedTimestamp=[%s] extractor=[%s]", topic, self.partition, offset,
                            event_ts, type(source.extractor).__name__)
                self.task.metrics.record_dropped()
                continue
            self.head = (event_ts, key, value, headers, offset)
            if event_ts > self.partition_time:
                self.partition_time = event_ts

    def pop(self) -> Head | None:
        head = self.head
        if head is not None:
            self.head = None
            if self.raw:
                self.update_head()
        return head
