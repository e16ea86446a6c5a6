"""Retention by time and size, DeleteRecords, and the log start offset they move."""
from __future__ import annotations

import pytest

from pystreams.broker.log import OffsetOutOfRangeError
from pystreams.broker.protocol.record_batch import iter_batches
from tests.fixtures.log_storage import make_batch

pytestmark = pytest.mark.unit


def fill(log, n: int, *, ts0: int = 1_000, step: int = 1_000) -> None:
    for i in range(n):
        log.append(memoryview(make_batch(2, value_size=100, tag=i, timestamp=ts0 + i * step)),
                   now_ms=ts0)


def test_retention_ms_deletes_old_segments_by_largest_timestamp(open_log) -> None:
    log = open_log(segment_bytes=600, retention_ms=5_000, file_delete_delay_ms=0)
    fill(log, 12)  # timestamps 1000..12000, two batches per segment
    bases = [s.base_offset for s in log.segments]
    assert len(bases) == 6
    assert log.enforce_retention(now_ms=10_500) == 2  # segments with max ts 2000 and 4000
    assert log.log_start_offset == bases[2] == log.segments[0].base_offset
    assert not (log.dir / f"{bases[0]:020d}.log").exists()
    assert not (log.dir / f"{bases[1]:020d}.index").exists()
    with pytest.raises(OffsetOutOfRangeError):
        log.read(bases[2] - 1, 100)
    assert next(iter_batches(log.read(bases[2], 1).to_bytes())).header.base_offset == bases[2]
    assert log.enforce_retention(now_ms=10_500) == 0


def test_retention_ms_rolls_and_empties_a_fully_expired_log(open_log) -> None:
    log = open_log(retention_ms=1_000, file_delete_delay_ms=0)
    fill(log, 3)
    end = log.log_end_offset
    assert log.enforce_retention(now_ms=100_000) == 1
    assert len(log.segments) == 1 and log.active_segment.base_offset == end
    assert log.log_start_offset == log.log_end_offset == end
    assert log.read(end, 100).size == 0
    log.append(memoryview(make_batch(1, timestamp=100_000)), now_ms=100_000)
    assert log.log_end_offset == end + 1


def test_retention_bytes_keeps_the_newest_within_budget(open_log) -> None:
    log = open_log(segment_bytes=600, retention_bytes=1_500, retention_ms=-1)
    fill(log, 12)
    seg_size = log.segments[0].size
    assert log.enforce_retention(now_ms=0) == 3
    # Kafka deletes a segment only while the rest still holds >= retention.bytes
    assert 1_500 <= log.size_bytes < 1_500 + seg_size
    assert log.log_start_offset == log.segments[0].base_offset


def test_unexpired_active_segment_stays_and_zero_bytes_rolls_it_away(open_log) -> None:
    log = open_log(retention_ms=60_000)
    fill(log, 3)
    assert log.enforce_retention(now_ms=3_500) == 0 and log.log_end_offset == 6
    # retention.bytes 0: the active segment can only go by rolling first, as Kafka does
    log.update_config(log.config.with_overrides({"retention.bytes": "0"}))
    assert log.enforce_retention(now_ms=3_500) == 1 and log.size_bytes == 0
    assert log.log_start_offset == log.log_end_offset == 6


def test_delete_records_moves_log_start_and_drops_whole_segments(open_log) -> None:
    log = open_log(segment_bytes=600, file_delete_delay_ms=0)
    fill(log, 12)
    bases = [s.base_offset for s in log.segments]
    target = bases[2] + 1  # inside the third segment, inside its first batch
    assert log.delete_records(target) == target == log.log_start_offset
    assert [s.base_offset for s in log.segments] == bases[2:]
    with pytest.raises(OffsetOutOfRangeError):
        log.read(target - 1, 100)
    first = next(iter_batches(log.read(target, 1).to_bytes()))
    assert first.header.base_offset <= target <= first.header.last_offset
    assert log.delete_records(3) == target  # never moves back
    with pytest.raises(OffsetOutOfRangeError):
        log.delete_records(log.high_watermark + 1)
    assert log.delete_records(-1) == log.high_watermark
    assert log.offset_for_timestamp(0) is None or log.offset_for_timestamp(0)[0] >= target


def test_offset_for_timestamp_never_answers_below_log_start(open_log) -> None:
    log = open_log()
    fill(log, 4)
    log.delete_records(3)
    assert log.offset_for_timestamp(0) == (3, 2_000)


def test_deleted_segment_stays_readable_for_in_flight_fetches(open_log, clock) -> None:
    log = open_log(segment_bytes=600, file_delete_delay_ms=60_000)
    fill(log, 6)
    pending = log.read(0, 300)
    expected = pending.to_bytes()
    log.delete_records(log.segments[1].base_offset)
    assert not (log.dir / "00000000000000000000.log").exists()
    assert pending.to_bytes() == expected  # the fd stays open for file.delete.delay.ms
    clock.advance(61_000)
    log.enforce_retention(now_ms=clock.now_ms)
    with pytest.raises((ValueError, OSError)):
        pending.to_bytes()
