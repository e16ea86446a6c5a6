"""Produce-side checks of a partition payload (Kafka's LogValidator, batch level): framing,
magic, CRC-32C, offset range, size and timestamp bounds. Records are never re-encoded; only for
compacted topics are they read, to refuse keyless records as Kafka does."""
from __future__ import annotations

from pystreams.broker.protocol.record_batch import (LOG_APPEND_TIME, NO_TIMESTAMP, BatchError,
                                                    RecordBatchView, iter_batches, records_without_key)

from .config import LONG_MAX, LogConfig
from .errors import (CorruptRecordError, InvalidRecordError, InvalidTimestampError,
                     RecordListTooLargeError, RecordTooLargeError)


def validate_batches(records: memoryview, config: LogConfig, now_ms: int, *,
                     allow_control: bool = False,
                     require_keys: bool = False) -> list[RecordBatchView]:
    """Every batch of a produce payload, checked; raises the Kafka error the client should see."""
    if len(records) > config.segment_bytes:
        raise RecordListTooLargeError(f"produce payload of {len(records)} bytes exceeds "
                                      f"segment.bytes {config.segment_bytes}")
    try:
        views = list(iter_batches(records))
    except BatchError as e:
        raise CorruptRecordError(str(e)) from None
    for view in views:
        h = view.header
        if view.size > config.max_message_bytes:
            raise RecordTooLargeError(f"record batch of {view.size} bytes exceeds "
                                      f"max.message.bytes {config.max_message_bytes}")
        try:
            view.validate()
        except BatchError as e:
            if e.kind == "corrupt":
                raise CorruptRecordError(str(e)) from None
            raise InvalidRecordError(str(e)) from None
        if h.records_count != h.last_offset_delta + 1:
            raise InvalidRecordError(f"record batch has {h.records_count} records but its "
                                     f"offset range holds {h.last_offset_delta + 1}")
        if h.is_control and not allow_control:
            raise InvalidRecordError("clients may not produce control batches")
        if not config.log_append_time:
            _check_timestamps(h.base_timestamp, h.max_timestamp, config, now_ms)
        if require_keys and not h.is_control:
            _check_keys(view)
    return views


def _check_keys(view: RecordBatchView) -> None:
    """Compacted topics refuse records without a key (Kafka: INVALID_RECORD). Batches in codecs
    the broker cannot decode (snappy, lz4, zstd) pass unchecked."""
    try:
        keyless = records_without_key(view.buf)
    except BatchError as e:
        if e.kind == "unsupported":
            return
        raise InvalidRecordError(f"record batch cannot be read: {e}") from None
    if keyless:
        raise InvalidRecordError("compacted topic cannot accept a record without a key")


def _check_timestamps(base_ts: int, max_ts: int, config: LogConfig, now_ms: int) -> None:
    """Batch-level form of Kafka's per-record bounds: maxTimestamp bounds every record from
    above; baseTimestamp (the first record's) is checked against the lower bound."""
    after = config.message_timestamp_after_max_ms
    before = config.message_timestamp_before_max_ms
    if max_ts != NO_TIMESTAMP and after != LONG_MAX and max_ts - now_ms > after:
        raise InvalidTimestampError(f"timestamp {max_ts} is more than "
                                    f"message.timestamp.after.max.ms={after} ahead of {now_ms}")
    if base_ts != NO_TIMESTAMP and before != LONG_MAX and now_ms - base_ts > before:
        raise InvalidTimestampError(f"timestamp {base_ts} is more than "
                                    f"message.timestamp.before.max.ms={before} behind {now_ms}")


def needs_timestamp_rewrite(view: RecordBatchView, config: LogConfig) -> bool:
    """CreateTime topics store batches as sent, except a stray LogAppendTime bit is cleared."""
    return not config.log_append_time and view.header.timestamp_type == LOG_APPEND_TIME
