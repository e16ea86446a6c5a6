"""Record batch v2 view: header fields, CRC-32C, framing errors and header patching, checked
against batches from our builder and an independent CRC-32C computation."""
from __future__ import annotations

import struct

import pytest
from crc32c import crc32c

from pystreams.broker.protocol.record_batch import (GZIP, HEADER_SIZE, LOG_APPEND_TIME,
                                                    BatchError, build_batch,
                                                    build_control_batch, iter_batches,
                                                    parse_header, read_records)

pytestmark = pytest.mark.unit


def test_header_fields_follow_kafka_layout() -> None:
    raw = build_batch([(b"a", b"1"), (b"b", b"2"), (None, None)], timestamps=[10, 30, 20],
                      producer_id=7, producer_epoch=3, base_sequence=11, transactional=True)
    # decode the fixed layout by hand, independent of parse_header
    base, length, epoch, magic, crc, attrs, lod, bts, mts, pid, pep, bseq, count = \
        struct.unpack(">qiibIhiqqqhii", raw[:61])
    assert (base, epoch, magic) == (0, -1, 2)
    assert length == len(raw) - 12
    assert crc == crc32c(raw[21:])
    assert attrs == 0x10 and lod == 2 and count == 3
    assert (bts, mts, pid, pep, bseq) == (10, 30, 7, 3, 11)
    h = parse_header(raw)
    assert h.size == len(raw) and h.last_offset == 2 and h.is_transactional
    assert not h.is_control and h.compression == 0 and h.timestamp_type == 0


def test_records_round_trip_with_headers_and_nulls() -> None:
    raw = build_batch([(b"k", b"v", [("h1", b"x"), ("h2", None)]), (None, b"")],
                      timestamps=[5, 4], base_offset=100)
    recs = read_records(raw)
    assert [(r.offset, r.timestamp, r.key, r.value) for r in recs] == [
        (100, 5, b"k", b"v"), (101, 4, None, b"")]
    assert recs[0].headers == (("h1", b"x"), ("h2", None))


def test_gzip_batch_is_valid_and_readable() -> None:
    raw = build_batch([(b"k%d" % i, b"v" * 100) for i in range(20)], compression=GZIP)
    (view,) = iter_batches(raw)
    view.validate()
    assert view.header.compression == GZIP and len(raw) < 20 * 100
    assert [r.key for r in read_records(raw)] == [b"k%d" % i for i in range(20)]


def test_control_batch_is_a_transaction_marker() -> None:
    raw = build_control_batch(1, producer_id=9, producer_epoch=2, coordinator_epoch=5)
    h = parse_header(raw)
    assert h.is_control and h.is_transactional and h.producer_id == 9
    (rec,) = read_records(raw)
    assert rec.key == struct.pack(">hh", 0, 1) and rec.value == struct.pack(">hi", 0, 5)


def test_iter_batches_walks_back_to_back_batches() -> None:
    a, b = build_batch([(b"a", b"1")]), build_batch([(b"b", b"2")] * 3)
    views = list(iter_batches(memoryview(a + b)))
    assert [bytes(v.buf) for v in views] == [a, b]
    for v in views:
        v.validate()


@pytest.mark.parametrize("cut", [1, HEADER_SIZE - 1, HEADER_SIZE + 3])
def test_truncated_payload_is_a_framing_error(cut: int) -> None:
    raw = build_batch([(b"a", b"x" * 50)])
    with pytest.raises(BatchError):
        list(iter_batches(raw + raw[:cut]))


def test_flipped_byte_fails_crc() -> None:
    raw = bytearray(build_batch([(b"a", b"payload")]))
    raw[-2] ^= 0x01
    (view,) = iter_batches(raw)
    with pytest.raises(BatchError) as e:
        view.validate()
    assert e.value.kind == "corrupt"


def test_wrong_magic_is_refused() -> None:
    raw = bytearray(build_batch([(b"a", b"b")]))
    raw[16] = 1
    with pytest.raises(BatchError) as e:
        next(iter_batches(raw)).validate()
    assert e.value.kind == "magic"


def test_length_below_header_is_refused() -> None:
    raw = bytearray(build_batch([(b"a", b"b")]))
    raw[8:12] = struct.pack(">i", 20)
    with pytest.raises(BatchError):
        list(iter_batches(raw))


def test_with_header_patches_offset_and_epoch_only_and_keeps_crc() -> None:
    raw = build_batch([(b"a", b"b"), (b"c", b"d")], timestamp=77)
    (view,) = iter_batches(raw)
    bufs = view.with_header(1234, 5)
    assert len(bufs) == 2 and isinstance(bufs[1], memoryview)
    assert bufs[1].obj is view.buf.obj  # the body is the caller's buffer, not a copy
    out = b"".join(bytes(b) for b in bufs)
    h = parse_header(out)
    assert (h.base_offset, h.partition_leader_epoch, h.crc) == (1234, 5, parse_header(raw).crc)
    assert out[16:] == raw[16:]
    next(iter_batches(out)).validate()


def test_log_append_time_patch_recomputes_crc() -> None:
    raw = build_batch([(b"a", b"b")] * 4, timestamps=[1, 2, 3, 4])
    (view,) = iter_batches(raw)
    out = b"".join(bytes(b) for b in view.with_header(9, 0, max_timestamp=555,
                                                       timestamp_type=LOG_APPEND_TIME))
    h = parse_header(out)
    assert h.timestamp_type == LOG_APPEND_TIME and h.max_timestamp == 555
    assert h.base_timestamp == 1 and h.crc == crc32c(out[21:]) != parse_header(raw).crc
    assert out[HEADER_SIZE:] == raw[HEADER_SIZE:]  # records untouched
    assert [r.timestamp for r in read_records(out)] == [555] * 4
