"""PartitionLog append/read: offsets, segment files, rolls, index lookups, fetch limits."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pystreams.broker.log import (CorruptRecordError, InvalidRecordError, InvalidTimestampError,
                                  LogConfig, OffsetOutOfRangeError, PartitionLog,
                                  RecordTooLargeError)
from pystreams.broker.protocol.record_batch import (LOG_APPEND_TIME, build_batch,
                                                    build_control_batch, iter_batches,
                                                    parse_header, read_records)
from tests.fixtures.log_storage import make_batch

pytestmark = pytest.mark.unit


def offsets_in(data: bytes) -> list[int]:
    return [r.offset for v in iter_batches(data) for r in read_records(v.buf)]


def test_append_assigns_offsets_and_stores_bytes_as_sent(open_log) -> None:
    log = open_log()
    a, b = make_batch(3, tag=1), make_batch(2, tag=2)
    info = log.append(memoryview(a), now_ms=1)
    assert (info.base_offset, info.last_offset, info.record_count) == (0, 2, 3)
    assert info.log_append_time == -1 and info.log_start_offset == 0
    info = log.append(memoryview(b), now_ms=1)
    assert (info.base_offset, info.last_offset) == (3, 4)
    assert log.log_end_offset == log.high_watermark == 5
    stored = (log.dir / "00000000000000000000.log").read_bytes()
    assert len(stored) == len(a) + len(b) == log.size_bytes
    # only baseOffset and partitionLeaderEpoch differ from what the client sent
    assert stored[16:len(a)] == a[16:] and stored[len(a) + 16:] == b[16:]
    assert parse_header(stored, len(a)).base_offset == 3
    assert parse_header(stored).partition_leader_epoch == 0


def test_multi_batch_payload_and_read_back(open_log) -> None:
    log = open_log()
    log.append(memoryview(make_batch(2, tag=1) + make_batch(3, tag=2)), now_ms=1)
    data = log.read(0, 1 << 20).to_bytes()
    assert offsets_in(data) == [0, 1, 2, 3, 4]


def test_log_append_time_stamps_header(open_log) -> None:
    log = open_log(message_timestamp_type="LogAppendTime")
    info = log.append(memoryview(make_batch(2, timestamp=5)), now_ms=987_654)
    assert info.log_append_time == 987_654
    (view,) = iter_batches(log.read(0, 1 << 20).to_bytes())
    view.validate()  # CRC recomputed
    assert view.header.timestamp_type == LOG_APPEND_TIME
    assert view.header.max_timestamp == 987_654


def test_invalid_input_is_refused_with_kafka_codes(open_log) -> None:
    log = open_log(max_message_bytes=500)
    with pytest.raises(RecordTooLargeError) as e:
        log.append(memoryview(make_batch(10, value_size=100)), now_ms=1)
    assert e.value.code == 10 and not e.value.retriable
    bad = bytearray(make_batch(1))
    bad[-1] ^= 0xFF
    with pytest.raises(CorruptRecordError) as c:
        log.append(memoryview(bad), now_ms=1)
    assert c.value.code == 2 and c.value.retriable
    with pytest.raises(CorruptRecordError):
        log.append(memoryview(make_batch(1)[:-3]), now_ms=1)
    with pytest.raises(InvalidRecordError) as i:
        log.append(memoryview(build_control_batch(1, producer_id=1, producer_epoch=0)), now_ms=1)
    assert i.value.code == 87
    with pytest.raises(InvalidTimestampError):
        log.append(memoryview(make_batch(1, timestamp=10_000_000)), now_ms=1)
    assert log.log_end_offset == 0 and log.size_bytes == 0  # nothing half-appended
    # a coordinator may write control batches
    info = log.append(memoryview(build_control_batch(1, producer_id=1, producer_epoch=0)),
                      now_ms=1, origin="coordinator")
    assert info.base_offset == 0


def test_roll_by_segment_bytes(open_log) -> None:
    log = open_log(segment_bytes=1000)
    batch = make_batch(2, value_size=100)
    for i in range(20):
        log.append(memoryview(make_batch(2, value_size=100, tag=i)), now_ms=1)
    assert len(log.segments) > 1
    for seg in log.segments:
        assert seg.size <= 1000
        assert seg.log_path.name == f"{seg.base_offset:020d}.log"
        assert seg.index_path.exists() and seg.timeindex_path.exists()
    assert [s.base_offset for s in log.segments][1] == (1000 // len(batch)) * 2
    assert offsets_in(log.read(0, 1 << 20).to_bytes()) == list(range(40))


def test_roll_by_segment_ms_uses_record_timestamps(open_log) -> None:
    log = open_log(segment_ms=1000, message_timestamp_after_max_ms=str(2**63 - 1))
    log.append(memoryview(make_batch(1, timestamp=10_000)), now_ms=1)
    log.append(memoryview(make_batch(1, timestamp=10_900)), now_ms=1)
    assert len(log.segments) == 1
    log.append(memoryview(make_batch(1, timestamp=11_001)), now_ms=1)
    assert [s.base_offset for s in log.segments] == [0, 2]


def test_roll_by_segment_ms_wall_clock_without_timestamps(open_log, clock) -> None:
    log = open_log(segment_ms=1000)
    log.append(memoryview(make_batch(1, timestamp=-1)), now_ms=clock.now_ms)
    log.append(memoryview(make_batch(1, timestamp=-1)), now_ms=clock.now_ms + 1001)
    assert len(log.segments) == 2


def test_read_out_of_range(open_log) -> None:
    log = open_log()
    log.append(memoryview(make_batch(3)), now_ms=1)
    with pytest.raises(OffsetOutOfRangeError) as e:
        log.read(4, 100)
    assert e.value.code == 1
    with pytest.raises(OffsetOutOfRangeError):
        log.read(-1, 100)
    assert log.read(3, 100).size == 0  # at the log end: nothing yet, not an error


def test_read_min_one_batch_and_whole_batches(open_log) -> None:
    log = open_log()
    sizes = []
    for i in range(5):
        b = make_batch(2, value_size=100, tag=i)
        sizes.append(len(b))
        log.append(memoryview(b), now_ms=1)
    one = log.read(0, 10)  # smaller than one batch: still one whole batch
    assert one.size == sizes[0] and offsets_in(one.to_bytes()) == [0, 1]
    two = log.read(3, sizes[1] + sizes[2] + 5)  # starts at the batch holding offset 3
    assert two.first_offset == 2 and two.size == sizes[1] + sizes[2]
    assert offsets_in(two.to_bytes()) == [2, 3, 4, 5]
    assert log.read(0, 10, min_one_batch=False).size == 0


def test_read_stops_before_upper_bound(open_log) -> None:
    log = open_log()
    for i in range(5):
        log.append(memoryview(make_batch(2, tag=i)), now_ms=1)
    s = log.read(0, 1 << 20, upper_bound=6)
    assert offsets_in(s.to_bytes()) == list(range(6)) and s.next_offset == 6
    assert log.read(6, 1 << 20, upper_bound=6).size == 0


def test_read_crosses_segments_with_whole_batches(open_log) -> None:
    log = open_log(segment_bytes=700, index_interval_bytes=200)
    for i in range(30):
        log.append(memoryview(make_batch(1, value_size=80, tag=i)), now_ms=1)
    assert len(log.segments) > 3
    s = log.read(5, 1 << 20)
    assert offsets_in(s.to_bytes()) == list(range(5, 30))
    assert len(s.chunks) == len(log.segments) - 1 or len(s.chunks) == len(log.segments)


def test_lookup_uses_the_index_not_a_scan_from_segment_start(open_log, monkeypatch) -> None:
    log = open_log(index_interval_bytes=256)
    for i in range(200):
        log.append(memoryview(make_batch(1, value_size=50, tag=i)), now_ms=1)
    seg = log.active_segment
    assert len(seg.offset_index) > 20
    reads: list[int] = []
    original = seg.read_header
    monkeypatch.setattr(seg, "read_header", lambda pos: reads.append(pos) or original(pos))
    s = log.read(150, 1)
    assert offsets_in(s.to_bytes()) == [150]
    batch_size = len(make_batch(1, value_size=50))
    assert min(reads) > 100 * batch_size  # never started from position 0
    assert len(reads) <= 256 // batch_size + 3


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(counts=st.lists(st.integers(1, 6), min_size=1, max_size=40),
       values=st.integers(1, 100), interval=st.sampled_from([0, 64, 500, 4096]),
       seg_bytes=st.sampled_from([1000, 3000, 1 << 20]), data=st.data())
def test_read_returns_the_batch_holding_any_offset(tmp_path_factory, counts, values, interval,
                                                   seg_bytes, data) -> None:
    d = tmp_path_factory.mktemp("prop") / "t-0"
    config = LogConfig.from_props({"index.interval.bytes": str(interval),
                                   "segment.bytes": str(seg_bytes)})
    log = PartitionLog.open(d, config)
    try:
        batches = []
        for i, n in enumerate(counts):
            info = log.append(memoryview(make_batch(n, value_size=values, tag=i)), now_ms=1)
            batches.append((info.base_offset, info.last_offset))
        for target in data.draw(st.lists(st.integers(0, log.log_end_offset - 1), min_size=1,
                                         max_size=10)):
            first = next(iter_batches(log.read(target, 1).to_bytes()))
            expected = next(b for b in batches if b[0] <= target <= b[1])
            assert (first.header.base_offset, first.header.last_offset) == expected
        log.close()
        reopened = PartitionLog.open(d, config, had_clean_shutdown=True)
        target = data.draw(st.integers(0, log.log_end_offset - 1))
        first = next(iter_batches(reopened.read(target, 1).to_bytes()))
        assert first.header.base_offset <= target <= first.header.last_offset
        reopened.close()
    finally:
        log.close()


def test_offset_for_timestamp_and_max_timestamp(open_log) -> None:
    log = open_log(index_interval_bytes=100, segment_bytes=600)
    for i in range(30):
        # two records per batch, timestamps 1000+10i and 1005+10i
        b = build_batch([(b"k", b"v"), (b"k", b"w")], timestamps=[1000 + 10 * i, 1005 + 10 * i])
        log.append(memoryview(b), now_ms=1)
    assert len(log.segments) > 2
    assert log.offset_for_timestamp(0) == (0, 1000)
    assert log.offset_for_timestamp(1005) == (1, 1005)
    assert log.offset_for_timestamp(1006) == (2, 1010)
    assert log.offset_for_timestamp(1150) == (30, 1150)
    assert log.offset_for_timestamp(1296) is None
    assert log.max_timestamp_and_offset() == (1295, 59)


def test_empty_log(open_log) -> None:
    log = open_log()
    assert (log.log_start_offset, log.log_end_offset, log.size_bytes) == (0, 0, 0)
    assert log.max_timestamp_and_offset() == (-1, -1)
    assert log.offset_for_timestamp(0) is None
    assert log.read(0, 100).size == 0


def test_log_append_time_answers_timestamps_by_append_time(open_log) -> None:
    log = open_log(message_timestamp_type="LogAppendTime")
    for i in range(5):
        log.append(memoryview(make_batch(2, timestamp=1, tag=i)), now_ms=10_000 + i * 100)
    assert log.offset_for_timestamp(10_150) == (4, 10_200)
    assert log.max_timestamp_and_offset()[0] == 10_400
    assert log.offset_for_timestamp(0) == (0, 10_000)


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(1, 5), min_size=1, max_size=30),
       interval=st.sampled_from([0, 100, 4096]), seg_bytes=st.sampled_from([700, 2500]),
       data=st.data())
def test_read_matches_a_model_of_whole_batches(tmp_path_factory, counts, interval, seg_bytes,
                                               data) -> None:
    """read() == the longest run of whole batches from the one holding fetch_offset that fits
    max_bytes (at least one) and ends before upper_bound, across segment boundaries."""
    d = tmp_path_factory.mktemp("model") / "t-0"
    log = PartitionLog.open(d, LogConfig.from_props({"index.interval.bytes": str(interval),
                                                     "segment.bytes": str(seg_bytes)}))
    try:
        for i, n in enumerate(counts):
            log.append(memoryview(make_batch(n, value_size=20, tag=i)), now_ms=1)
        model = [(v.header.base_offset, v.header.last_offset, bytes(v.buf))
                 for v in iter_batches(log.read(0, 1 << 30).to_bytes())]
        for _ in range(5):
            fetch = data.draw(st.integers(0, log.log_end_offset - 1))
            max_bytes = data.draw(st.integers(1, 1500))
            bound = data.draw(st.integers(fetch, log.log_end_offset))
            start = next(i for i, b in enumerate(model) if b[0] <= fetch <= b[1])
            expected, size = [], 0
            for base, last, raw in model[start:]:
                if last >= bound or (expected and size + len(raw) > max_bytes):
                    break
                expected.append(raw)
                size += len(raw)
            got = log.read(fetch, max_bytes, upper_bound=bound)
            assert got.to_bytes() == b"".join(expected)
            assert got.size == size
    finally:
        log.close()


def test_compacted_topic_refuses_keyless_records(open_log) -> None:
    log = open_log(cleanup_policy="compact")
    with pytest.raises(InvalidRecordError):
        log.append(memoryview(build_batch([(b"k", b"v"), (None, b"v")])), now_ms=1)
    assert log.append(memoryview(build_batch([(b"k", None)])), now_ms=1).base_offset == 0


def test_disk_errors_become_kafka_storage_errors(open_log, monkeypatch) -> None:
    import errno
    import os

    from pystreams.broker.log import KafkaStorageIOError
    log = open_log()
    log.append(memoryview(make_batch(1)), now_ms=1)

    def full(fd, bufs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "writev", full)
    with pytest.raises(KafkaStorageIOError) as e:
        log.append(memoryview(make_batch(1)), now_ms=1)
    assert e.value.code == 56 and e.value.retriable
    monkeypatch.undo()
    assert log.log_end_offset == 1 and log.append(memoryview(make_batch(1)),
                                                  now_ms=1).base_offset == 1


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_hostile_payloads_get_kafka_errors_and_leave_the_log_intact(tmp_path_factory,
                                                                   data) -> None:
    from pystreams.broker.log import KafkaStorageError
    log = PartitionLog.open(tmp_path_factory.mktemp("fuzz") / "t-0", LogConfig())
    try:
        good = make_batch(2, tag=1)
        log.append(memoryview(good), now_ms=1)
        before = log.read(0, 1 << 20).to_bytes()
        payload = bytearray(make_batch(3, tag=2))
        for _ in range(data.draw(st.integers(1, 4))):  # flip, cut or extend
            how = data.draw(st.sampled_from(["flip", "cut", "extend", "length"]))
            if how == "flip" and payload:
                i = data.draw(st.integers(0, len(payload) - 1))
                payload[i] ^= data.draw(st.integers(1, 255))
            elif how == "cut":
                payload = payload[:data.draw(st.integers(0, len(payload)))]
            elif how == "extend":
                payload += data.draw(st.binary(max_size=80))
            elif len(payload) >= 12:
                payload[8:12] = data.draw(st.integers(-2**31, 2**31 - 1)).to_bytes(4, "big",
                                                                                  signed=True)
        try:
            info = log.append(memoryview(bytes(payload)), now_ms=1)
        except KafkaStorageError as e:
            assert e.code > 0
            assert log.read(0, 1 << 20).to_bytes() == before and log.log_end_offset == 2
        else:
            assert info.base_offset in (-1, 2)  # only a still-valid payload is stored
            for v in iter_batches(log.read(0, 1 << 20).to_bytes()):
                v.validate()
    finally:
        log.close()
