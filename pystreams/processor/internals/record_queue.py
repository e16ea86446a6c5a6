"""Per-partition input queues (Kafka's RecordQueue/PartitionGroup): raw records become a deserialized head
with an extracted timestamp; the task always processes the head with the smallest timestamp next."""
from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from pystreams.processor.internals.nodes import SourceRuntime
from pystreams.processor.record import Record
from pystreams.processor.timestamps import ConsumedRecord, FailOnInvalidTimestamp
from pystreams.serdes.handlers import ConsumerRecord, ErrorHandlerContext, handle_deserialization_failure

if TYPE_CHECKING:
    from pystreams.processor.internals.task import StreamTask
    from pystreams.state.context import RecordContext

log = logging.getLogger("pystreams.processor.internals")

RawRecord = tuple[int, int, "bytes | None", "bytes | None", Any]
"""(offset, timestamp, key bytes, value bytes, headers) as consumed."""

Head = tuple[int, Any, Any, Any, int]
"""(extracted timestamp, key, value, headers, offset)."""

_new_record = tuple.__new__


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
                self._deserialization_failed(offset, ts, kb, vb, headers, e)
                continue
            if not (self._fast_ts and ts >= 0):
                ts = self._extract(offset, ts, key, value, headers)
                if ts < 0:
                    continue
            self.head = (ts, key, value, headers, offset)
            if ts > self.partition_time:
                self.partition_time = ts

    def _deserialization_failed(self, offset: int, ts: int, kb: bytes | None, vb: bytes | None, headers: Any,
                                e: Exception) -> None:
        """deserialization.exception.handler decides: return = skip the record, raise = stop."""
        task, topic = self.task, self.topic
        handle_deserialization_failure(
            task.deserialization_handler,
            ErrorHandlerContext(topic, self.partition, offset, headers, self.source.name, task.id, ts),
            ConsumerRecord(topic, self.partition, offset, ts, kb, vb, headers), e, task.metrics.record_dropped)

    def _extract(self, offset: int, ts: int, key: Any, value: Any, headers: Any) -> int:
        """The source's timestamp extractor; a negative result drops the record (logged, counted)."""
        source = self.source
        event_ts: int = source.extractor.extract(
            ConsumedRecord(self.topic, self.partition, offset, ts, key, value, headers), self.partition_time)
        if event_ts < 0:
            log.warning("Skipping record due to negative extracted timestamp. topic=[%s] partition=[%s] "
                        "offset=[%s] extractedTimestamp=[%s] extractor=[%s]", self.topic, self.partition, offset,
                        event_ts, type(source.extractor).__name__)
            self.task.metrics.record_dropped()
        return event_ts

    def pop(self) -> Head | None:
        head = self.head
        if head is not None:
            self.head = None
            if self.raw:
                self.update_head()
        return head

    def drain(self, rc: RecordContext, limit: int) -> int:
        """Process up to limit records of this queue through its source, in order; how many were processed.

        The task calls this when no other queue of it holds records, so no timestamp comparison is needed: the
        same steps as pop() + StreamTask.process() per record (the next head is deserialized before the current
        record is processed, as Kafka's RecordQueue.poll does), inlined, with one RecordContext updated in place
        (stores copy its fields, nothing keeps it)."""
        task = self.task
        sctx = task.store_context
        raw, topic = self.raw, self.topic
        popleft = raw.popleft
        source = self.source
        kdeser, vdeser = source.key_deserialize, source.value_deserialize
        kfast, vfast = source.key_fast, source.value_fast
        fast_ts = self._fast_ts
        children = source.children()
        only = children[0] if len(children) == 1 else None
        rc.topic = topic
        rc.partition = self.partition
        done = 0
        while done < limit:
            head = self.head
            if head is None:
                break
            self.head = None
            while raw:  # update_head(), inlined
                offset, ts, kb, vb, headers = popleft()
                try:  # the C-level decoder when there is one (serde_calls); the serde for None and failures
                    if kfast is not None and kb is not None:
                        try:
                            key = kfast(kb)
                        except Exception:  # noqa: BLE001 - the serde gives its own answer or error
                            key = kdeser(topic, kb, headers)
                    else:
                        key = kdeser(topic, kb, headers)
                    if vfast is not None and vb is not None:
                        try:
                            value = vfast(vb)
                        except Exception:  # noqa: BLE001 - the serde gives its own answer or error
                            value = vdeser(topic, vb, headers)
                    else:
                        value = vdeser(topic, vb, headers)
                except Exception as e:  # noqa: BLE001 - every failure goes to the handler, as in Kafka
                    self._deserialization_failed(offset, ts, kb, vb, headers, e)
                    continue
                if not (fast_ts and ts >= 0):
                    ts = self._extract(offset, ts, key, value, headers)
                    if ts < 0:
                        continue
                self.head = (ts, key, value, headers, offset)
                if ts > self.partition_time:
                    self.partition_time = ts
                break
            ts, key, value, headers, offset = head
            self.next_offset = offset + 1
            if ts > task.stream_time:
                task.stream_time = ts
            rc.timestamp = ts
            rc.offset = offset
            rc.headers = headers
            sctx.record_context = rc
            record = _new_record(Record, (key, value, ts, headers))
            if only is not None:
                only(record)
            else:
                for child in children:
                    child(record)
            done += 1
        return done
