"""Per-partition input queues (Kafka's RecordQueue/PartitionGroup): raw records become a deserialized head
with an extracted timestamp; the task always processes the head with the smallest timestamp next."""
from __future__ import annotations

import logging
from collections import deque
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from confluent_kafka import Message

from pystreams.processor.internals.chain import fields_of
from pystreams.processor.internals.nodes import SourceRuntime
from pystreams.processor.internals.serde_calls import IDENTITY, pure_decoder
from pystreams.processor.record import Record
from pystreams.processor.timestamps import (
    ConsumedRecord,
    FailOnInvalidTimestamp,
    LogAndSkipOnInvalidTimestamp,
)
from pystreams.serdes.handlers import (
    DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
    ConsumerRecord,
    DeserializationFailedError,
    DeserializationHandlerResponse,
    ErrorHandlerContext,
    HandlerCallbackError,
    LogAndContinueExceptionHandler,
)

if TYPE_CHECKING:
    from pystreams.processor.internals.task import StreamTask
    from pystreams.state.context import RecordContext

log = logging.getLogger("pystreams.processor.internals")

RawRecord = tuple[int, int, "bytes | None", "bytes | None", Any]
"""(offset, timestamp, key bytes, value bytes, headers) as consumed."""

Head = tuple[int, Any, Any, Any, int]
"""(extracted timestamp, key, value, headers, offset)."""

_new_record = tuple.__new__
_offset_of = Message.offset
_timestamp_of = Message.timestamp
_key_of = Message.key
_value_of = Message.value
_headers_of = Message.headers
_second = itemgetter(1)
BULK_CHUNK = 128  # Messages decoded at once by RecordQueue._drain_bulk


class _TupleMessage:
    """A RawRecord with a Message's accessors: tuples added to a queue that holds Messages (never in the runtime,
    which only adds Messages; tests may mix)."""

    __slots__ = ("_r",)

    def __init__(self, record: RawRecord) -> None:
        self._r = record

    def offset(self) -> int:
        return self._r[0]

    def timestamp(self) -> tuple[int, int]:
        return 1, self._r[1]

    def key(self) -> bytes | None:
        return self._r[2]

    def value(self) -> bytes | None:
        return self._r[3]

    def headers(self) -> Any:
        return self._r[4]


class RecordQueue:
    """The buffered records of one input partition."""

    __slots__ = ("topic", "partition", "source", "raw", "head", "partition_time", "task", "_fast_ts",
                 "next_offset", "messages", "skipped_to", "_key_pure", "_value_pure")

    def __init__(self, task: StreamTask, topic: str, partition: int, source: SourceRuntime) -> None:
        self.task = task
        self.topic = topic
        self.partition = partition
        self.source = source
        self.raw: deque[Any] = deque()  # RawRecords, or Messages when self.messages
        self.head: Head | None = None
        self.partition_time = -1
        self.next_offset = -1  # offset after the last processed record: what a commit stores
        # offset after the last skipped record (bad data, negative timestamp), -1 before any: Kafka commits past
        # such records too (CorruptedRecord, consumer position). Only looked at while the queue is empty; a valid
        # record processed after it has moved next_offset past it (so no per-record reset is needed)
        self.skipped_to = -1
        self._fast_ts = type(source.extractor) is FailOnInvalidTimestamp
        self.messages = False  # raw holds confluent_kafka Messages (add_messages), else RawRecord tuples
        # decoders without side effects (serde_calls.pure_decoder): with both, and the default extractor, the drain
        # decodes the buffered Messages in bulk (_drain_bulk)
        self._key_pure = pure_decoder(source.key_serde)
        self._value_pure = pure_decoder(source.value_serde)

    def __len__(self) -> int:
        return len(self.raw) + (self.head is not None)

    def add(self, records: list[RawRecord]) -> None:
        """Buffer (offset, timestamp, key bytes, value bytes, headers) tuples."""
        if self.messages:
            if self.raw:
                self.raw.extend(map(_TupleMessage, records))
                self.update_head()
                return
            self.messages = False
        self.raw.extend(records)
        if self.head is None:
            self.update_head()
            self._settle_skipped()

    def add_messages(self, messages: list[Any]) -> None:
        """Buffer consumed confluent_kafka Messages (without error) as they are: their fields are read once, when
        the record is deserialized, instead of being copied into a tuple first (the stream thread's hand-over)."""
        if not self.messages:
            if self.raw:
                self.raw.extend([(m.offset(), m.timestamp()[1], m.key(), m.value(), m.headers() or ())
                                 for m in messages])
                self.update_head()
                return
            self.messages = True
        self.raw.extend(messages)
        if self.head is None:
            self.update_head()
            self._settle_skipped()

    def _settle_skipped(self) -> None:
        """After add(): with no valid head every record before the skipped ones was processed, so the skipped
        ones count as consumed: their offsets are committed (Kafka's CorruptedRecord, KAFKA-6502)."""
        if self.head is None and self.skipped_to > self.next_offset:
            self.next_offset = self.skipped_to

    def committable_offset(self) -> int:
        """The offset a commit stores for this partition: after the last processed record, or after trailing
        skipped records once nothing unprocessed is left (Kafka commits the consumer's position then); -1 when
        nothing was consumed yet. Call it between records (at commit), not between pop() and processing."""
        if self.head is None and not self.raw and self.skipped_to > self.next_offset:
            return self.skipped_to
        return self.next_offset

    def update_head(self) -> None:
        """Deserialize raw records until one is valid (failures go to the deserialization handler)."""
        raw, source, topic = self.raw, self.source, self.topic
        while self.head is None and raw:
            if self.messages:
                m = raw.popleft()
                offset, ts, kb, vb, headers = m.offset(), m.timestamp()[1], m.key(), m.value(), m.headers() or ()
            else:
                offset, ts, kb, vb, headers = raw.popleft()
            try:
                key = source.key_deserialize(topic, kb, headers)
                value = source.value_deserialize(topic, vb, headers)
            except Exception as e:  # noqa: BLE001 - every failure goes to the handler, as in Kafka
                self._deserialization_failed(offset, ts, kb, vb, headers, e)
                self.skipped_to = offset + 1
                continue
            if not (self._fast_ts and ts >= 0):
                ts = self._extract(offset, ts, key, value, headers, self.partition_time)
                if ts < 0:
                    self.skipped_to = offset + 1
                    continue
            self.head = (ts, key, value, headers, offset)
            if ts > self.partition_time:
                self.partition_time = ts

    def _deserialization_failed(self, offset: int, ts: int, kb: bytes | None, vb: bytes | None, headers: Any,
                                e: Exception) -> None:
        """deserialization.exception.handler decides: return = skip the record (logged once, counted as
        dropped), raise = stop. One log line per skipped record: the built-in LogAndContinueExceptionHandler
        writes its own (with the traceback), for any other handler this writes one without a traceback."""
        task, topic, partition = self.task, self.topic, self.partition
        handler = task.deserialization_handler
        record = ConsumerRecord(topic, partition, offset, ts, kb, vb, headers)
        try:
            response = handler.handle(ErrorHandlerContext(topic, partition, offset, headers, self.source.name,
                                                          task.id, ts), record, e)
            if not isinstance(response, DeserializationHandlerResponse):
                raise TypeError(f"Invalid DeserializationExceptionHandler response: {response!r}")
        except Exception as fatal:  # the user's callback failed: stop, as Kafka does
            log.error("Deserialization error callback failed after deserialization error for record %s", record,
                      exc_info=e)
            raise HandlerCallbackError(f"Fatal user code error in deserialization error callback: {fatal}") \
                from fatal
        if response is DeserializationHandlerResponse.FAIL:
            raise DeserializationFailedError(
                "Deserialization exception handler is set to fail upon a deserialization error. If you would "
                "rather have the streaming pipeline continue after a deserialization error, please set the "
                f"{DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG} appropriately. (topic {topic!r}, partition "
                f"{partition}, offset {offset}: {e})") from e
        if type(handler) is not LogAndContinueExceptionHandler:
            log.warning("Skipping record due to deserialization error. topic=[%s] partition=[%s] offset=[%s]: "
                        "%s: %s", topic, partition, offset, type(e).__name__, e)
        task.metrics.record_dropped()

    def _extract(self, offset: int, ts: int, key: Any, value: Any, headers: Any, partition_time: int) -> int:
        """The source's timestamp extractor; a negative result drops the record (logged, counted)."""
        source = self.source
        event_ts: int = source.extractor.extract(
            ConsumedRecord(self.topic, self.partition, offset, ts, key, value, headers), partition_time)
        if event_ts < 0:
            if type(source.extractor) is not LogAndSkipOnInvalidTimestamp:  # that one logged it: one line a record
                log.warning("Skipping record due to negative extracted timestamp. topic=[%s] partition=[%s] "
                            "offset=[%s] extractedTimestamp=[%s] extractor=[%s]", self.topic, self.partition,
                            offset, event_ts, type(source.extractor).__name__)
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

        The task calls this when no other queue of it holds records, so no timestamp comparison is needed.
        Buffered consumer Messages that all fit in limit are decoded in bulk when that is invisible
        (_drain_bulk); anything else goes record by record (_drain_each)."""
        if (self.messages and self._fast_ts and self._key_pure is not None and self._value_pure is not None
                and self.head is not None and len(self.raw) < limit):
            done = self._drain_bulk(rc)
            if self.head is None:
                return done
            return done + self._drain_each(rc, limit - done)  # a record the serde or the extractor must see
        return self._drain_each(rc, limit)

    def _decode(self, head: Head, msgs: list[Any]) -> tuple[list[Any], list[Any], list[int], Any, list[int]] | None:
        """(keys, values, timestamps, headers, offsets) of head and msgs (Messages), decoded by the pure decoders;
        None when one of them needs the serde or the extractor (it does not decode, a negative timestamp)."""
        offsets = [head[4]]
        offsets += map(_offset_of, msgs)  # type: ignore[arg-type]  # a consumed message always has its offset
        stamps = [head[0]]
        stamps += map(_second, map(_timestamp_of, msgs))
        if min(stamps) < 0:  # the extractor decides about these (FailOnInvalidTimestamp raises)
            return None
        kdec, vdec = self._key_pure, self._value_pure
        assert kdec is not None and vdec is not None  # drain() takes this path only with both decoders pure
        keys = [head[1]]
        values = [head[2]]
        try:
            if kdec is IDENTITY:
                keys += map(_key_of, msgs)
            else:
                raw_keys = list(map(_key_of, msgs))
                if None in raw_keys:  # these serdes deserialize None to None
                    keys += [None if b is None else kdec(b) for b in raw_keys]
                else:
                    keys += map(kdec, raw_keys)
            if vdec is IDENTITY:
                values += map(_value_of, msgs)
            else:
                raw_values = list(map(_value_of, msgs))
                if None in raw_values:
                    values += [None if b is None else vdec(b) for b in raw_values]
                else:
                    values += map(vdec, raw_values)
        except Exception:  # noqa: BLE001 - a record the serde must answer for: record by record
            return None
        headers_of = list(map(_headers_of, msgs))
        if head[3] == () and headers_of.count(None) == len(headers_of):  # no headers at all (() as _drain_each)
            return keys, values, stamps, repeat((), len(offsets)), offsets
        headers = [head[3]]
        headers += [h or () for h in headers_of]
        return keys, values, stamps, headers, offsets

    def _drain_bulk(self, rc: RecordContext) -> int:
        """Process the head and the buffered Messages (drain()'s caller allows that many) in chunks of
        BULK_CHUNK decoded at once; returns how many were processed. Stops early, leaving a decoded head, at a
        chunk that must go record by record (a record that does not decode, a negative timestamp).

        Why: per record, the Python loop of _drain_each (five accessor calls, the decode with its fallbacks, the
        look-ahead bookkeeping) costs about as much as the C work it drives. Here the fields come out of the
        Messages in C-level passes (map over a chunk) and the decoders (serde_calls.pure_decoder: no user code,
        no side effect) run over the chunk before its first record is processed, which nothing can tell apart
        from Kafka's one-record look-ahead: a decode that fails only raises, and then that chunk is done by
        _drain_each, so the deserialization handler, skipped offsets and the timestamp extractor see the records
        in Kafka's order. Each chunk's last record becomes the head (decoded before the record ahead of it is
        processed, as in _drain_each). The loop does per record what _drain_each does after the decode: stream
        time, the record context, the source's child. Partition time is only read by timestamp extractors (not
        used here) and is written when the drain ends, as _drain_each does. Chunks, not the whole batch: the
        decoded values of ~100 records stay in the CPU caches and below the GC's first threshold (700)."""
        raw = self.raw
        head = self.head
        assert head is not None
        pending = list(raw)
        raw.clear()
        total = len(pending)
        task = self.task
        children = self.source.children()
        only = children[0] if len(children) == 1 else None
        only_fields = fields_of(only) if only is not None else None
        rc.topic = self.topic
        rc.partition = self.partition
        task.store_context.record_context = rc
        stime = task.stream_time
        ptime = self.partition_time
        start = 0  # pending[start] is the first Message after head
        done = 0
        last = -1
        offsets: list[int] = []
        before = ptime
        try:
            while True:
                msgs = pending[start:start + BULK_CHUNK]
                columns = self._decode(head, msgs)
                if columns is None:
                    break
                keys, values, stamps, headers, offsets = columns
                before = ptime
                top = max(stamps)
                if top > ptime:
                    ptime = top
                start += len(msgs)
                if start < total:  # the chunk's last record is the next head (decoded, not processed yet)
                    if type(headers) is repeat:
                        headers = repeat((), len(offsets) - 1)
                        hdr = ()
                    else:
                        hdr = headers.pop()
                    head = (stamps.pop(), keys.pop(), values.pop(), hdr, offsets.pop())
                else:
                    head = None  # type: ignore[assignment]
                if only_fields is not None:
                    for key, value, ts, hdrs, offset in zip(keys, values, stamps, headers, offsets):
                        last = offset
                        if ts > stime:
                            task.stream_time = stime = ts
                        rc.timestamp = ts
                        rc.offset = offset
                        rc.headers = hdrs
                        only_fields(key, value, ts, hdrs)
                else:
                    for key, value, ts, hdrs, offset in zip(keys, values, stamps, headers, offsets):
                        last = offset
                        if ts > stime:
                            task.stream_time = stime = ts
                        rc.timestamp = ts
                        rc.offset = offset
                        rc.headers = hdrs
                        record = _new_record(Record, (key, value, ts, hdrs))
                        for child in children:
                            child(record)
                done += len(offsets)
                if head is None:
                    break
            # stopped at a chunk for _drain_each, or done (head None, nothing pending)
            self.head = head
            if start < total:
                raw.extendleft(reversed(pending[start:]))
        except BaseException:
            # as _drain_each leaves it: the failed record counts as processed, the record after it is the
            # (decoded) head, what follows goes back to the queue undecoded
            i = offsets.index(last) if last in offsets else -1  # offsets of a partition only grow
            if i + 1 < len(offsets):
                if type(headers) is repeat:
                    headers = [()] * len(offsets)
                self.head = (stamps[i + 1], keys[i + 1], values[i + 1], headers[i + 1], offsets[i + 1])
                ptime = max(before, *stamps[:i + 2])  # as far as _drain_each would have read
                # offsets[k] is pending[start - len(offsets) - (head kept) + k]: the chunk's Messages after it
                back = start - (len(offsets) - 1) - (head is not None) + i + 1
                raw.extendleft(reversed(pending[back:]))
            else:  # the chunk's last processed record failed: head (if any) and what was not reached stay
                self.head = head
                raw.extendleft(reversed(pending[start:]))
            raise
        finally:
            if last >= 0:
                self.next_offset = last + 1
            self.partition_time = ptime
        return done

    def _drain_each(self, rc: RecordContext, limit: int) -> int:
        """drain() record by record.

        The same steps as pop() + StreamTask.process() per record (the next head is deserialized before the current
        record is processed, as Kafka's RecordQueue.poll does), inlined. Per batch, not per record: the record
        context is installed once and updated in place (stores copy its fields, nothing keeps it; whoever
        replaces it restores it), the head being processed and partition time live in locals, and the committed
        offset is written back when the drain ends, also when processing raises."""
        head = self.head
        if head is None or limit <= 0:
            return 0
        task = self.task
        raw, topic = self.raw, self.topic
        popleft = raw.popleft
        source = self.source
        kdeser, vdeser = source.key_deserialize, source.value_deserialize
        kfast, vfast = source.key_fast, source.value_fast
        fast_ts = self._fast_ts
        msgs = self.messages
        children = source.children()
        only = children[0] if len(children) == 1 else None
        only_fields = fields_of(only) if only is not None else None  # no Record for a chain or sink child
        rc.topic = topic
        rc.partition = self.partition
        task.store_context.record_context = rc
        ptime = self.partition_time
        stime = task.stream_time
        ts, key, value, headers, offset = head
        self.head = None
        last = -1  # offset of the last record handed to the source
        skipped = -1  # offset after the last skipped record (a valid one processed after it passes it)
        has_next = False
        done = 0
        try:
            while True:
                while raw:  # the next head (update_head(), inlined)
                    if msgs:
                        m = popleft()
                        n_offset = m.offset()
                        n_ts = m.timestamp()[1]
                        kb = m.key()
                        vb = m.value()
                        n_headers = m.headers() or ()
                    else:
                        n_offset, n_ts, kb, vb, n_headers = popleft()
                    try:  # the C-level decoder when there is one (serde_calls); the serde for None and failures
                        if kfast is not None and kb is not None:
                            try:
                                n_key = kfast(kb)
                            except Exception:  # noqa: BLE001 - the serde gives its own answer or error
                                n_key = kdeser(topic, kb, n_headers)
                        else:
                            n_key = kdeser(topic, kb, n_headers)
                        if vfast is not None and vb is not None:
                            try:
                                n_value = vfast(vb)
                            except Exception:  # noqa: BLE001 - the serde gives its own answer or error
                                n_value = vdeser(topic, vb, n_headers)
                        else:
                            n_value = vdeser(topic, vb, n_headers)
                    except Exception as e:  # noqa: BLE001 - every failure goes to the handler, as in Kafka
                        self._deserialization_failed(n_offset, n_ts, kb, vb, n_headers, e)
                        skipped = n_offset + 1
                        continue
                    if not (fast_ts and n_ts >= 0):
                        n_ts = self._extract(n_offset, n_ts, n_key, n_value, n_headers, ptime)
                        if n_ts < 0:
                            skipped = n_offset + 1
                            continue
                    if n_ts > ptime:
                        ptime = n_ts
                    has_next = True
                    break
                last = offset
                if ts > stime:
                    task.stream_time = stime = ts
                rc.timestamp = ts
                rc.offset = offset
                rc.headers = headers
                if only_fields is not None:
                    only_fields(key, value, ts, headers)
                else:
                    record = _new_record(Record, (key, value, ts, headers))
                    if only is not None:
                        only(record)
                    else:
                        for child in children:
                            child(record)
                done += 1
                if not has_next:
                    break
                has_next = False
                ts = n_ts  # one by one: a 5-name swap builds and unpacks a tuple
                key = n_key
                value = n_value
                headers = n_headers
                offset = n_offset
                if done >= limit:
                    self.head = (ts, key, value, headers, offset)
                    break
        finally:
            if has_next:  # processing raised after the next head was read: it stays the head
                self.head = (n_ts, n_key, n_value, n_headers, n_offset)
            if last >= 0:
                self.next_offset = last + 1
            self.partition_time = ptime
        # every record was processed (no exception): trailing skipped records count as consumed
        if skipped > self.next_offset and self.head is None:
            self.skipped_to = self.next_offset = skipped
        return done
