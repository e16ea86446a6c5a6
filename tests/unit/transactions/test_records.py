"""`__transaction_state` record formats: Kafka's TransactionLogKey/Value byte layouts."""
from __future__ import annotations

import struct

import pytest

from pystreams.broker.coordinator.transactions.records import (TxnMetadata, TxnRecordError,
                                                               TxnState, decode_key, decode_value,
                                                               encode_key, encode_value)

pytestmark = pytest.mark.unit


def test_key_layout_is_version_0_then_a_short_string():
    assert encode_key("tx-1") == b"\x00\x00\x00\x04tx-1"
    assert decode_key(encode_key("tx-ü")) == "tx-ü"


def test_value_v0_layout_and_round_trip():
    meta = TxnMetadata("t", 42, 3, 60000, TxnState.ONGOING,
                       frozenset({("b", 1), ("a", 2), ("a", 0)}), 1000, 900)
    raw = encode_value(meta)
    version, pid, epoch, timeout, status = struct.unpack_from(">hqhib", raw)
    assert (version, pid, epoch, timeout, status) == (0, 42, 3, 60000, 1)
    # topics sorted, partitions as int32 arrays, then the two timestamps
    assert raw[17:] == (b"\x00\x00\x00\x02" + b"\x00\x01a" + struct.pack(">iii", 2, 0, 2)
                        + b"\x00\x01b" + struct.pack(">ii", 1, 1) + struct.pack(">qq", 1000, 900))
    assert decode_value("t", raw) == meta


def test_value_v1_flexible_is_read():
    # v1: compact array/strings (length+1 as unsigned varint), tagged fields per struct and at end
    body = struct.pack(">hqhib", 1, 7, 0, 1000, 4) + bytes([2]) + bytes([2]) + b"x" + bytes([2]) \
        + struct.pack(">i", 5) + b"\x00" + struct.pack(">qq", 5, 4) + b"\x00"
    meta = decode_value("t", body)
    assert meta.state == TxnState.COMPLETE_COMMIT and meta.partitions == {("x", 5)}
    assert (meta.producer_id, meta.last_update_ms, meta.start_ms) == (7, 5, 4)


def test_garbage_is_a_clear_error():
    with pytest.raises(TxnRecordError):
        decode_value("t", b"\x00\x00\x01")
    with pytest.raises(TxnRecordError):
        decode_key(b"\x00\x05\x00\x01a")


def test_state_names_are_kafkas():
    assert [s.kafka_name for s in TxnState] == [
        "Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort",
        "Dead", "PrepareEpochFence"]
