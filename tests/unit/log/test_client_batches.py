"""Cross-check with a real client's batch codec (kafka-python's DefaultRecordBatchBuilder and
reader, written independently of ours): we accept and store what it encodes, and it reads back
what we store, CRC included, after our header patches (offsets, LogAppendTime)."""
from __future__ import annotations

import pytest

from pystreams.broker.log import LogConfig, PartitionLog
from pystreams.broker.protocol.record_batch import GZIP, NO_COMPRESSION, build_batch, iter_batches

pytestmark = pytest.mark.unit
records_mod = pytest.importorskip("kafka.record.default_records")


def client_batch(n: int, compression: int, tag: int, transactional: bool = False,
                 base_sequence: int = 0) -> bytes:
    builder = records_mod.DefaultRecordBatchBuilder(
        magic=2, compression_type=compression, is_transactional=transactional, producer_id=42,
        producer_epoch=1, base_sequence=base_sequence, batch_size=1 << 20)
    for i in range(n):
        builder.append(i, timestamp=1_000 + i, key=b"key-%d-%d" % (tag, i),
                       value=b"value-%d" % i * 20, headers=[("trace", b"%d" % i)])
    return bytes(builder.build())


@pytest.mark.parametrize("timestamp_type", ["CreateTime", "LogAppendTime"])
@pytest.mark.parametrize("compression", [NO_COMPRESSION, GZIP])
def test_client_batches_round_trip_through_the_log(tmp_path, compression: int,
                                                   timestamp_type: str) -> None:
    log = PartitionLog.open(tmp_path / "t-0", LogConfig.from_props(
        {"message.timestamp.type": timestamp_type, "segment.bytes": "4000"}))
    sent, seq = [], 0
    for i in range(30):  # an idempotent producer: sequences continue batch after batch
        sent.append(client_batch(1 + i % 5, compression, i, base_sequence=seq))
        seq += 1 + i % 5
    for raw in sent:
        log.append(memoryview(raw), now_ms=1_000_000)
    stored = [bytes(v.buf) for v in iter_batches(log.read(0, 1 << 30).to_bytes())]
    assert len(stored) == len(sent) and len(log.segments) > 1
    expected_offset = 0
    for raw, out in zip(sent, stored):
        batch = records_mod.DefaultRecordBatch(bytearray(out))
        assert batch.validate_crc()
        assert batch.base_offset == expected_offset
        recs = list(batch)
        assert [r.offset for r in recs] == list(range(expected_offset,
                                                      expected_offset + len(recs)))
        original = list(records_mod.DefaultRecordBatch(bytearray(raw)))
        assert [(r.key, r.value, r.headers) for r in recs] == [
            (r.key, r.value, r.headers) for r in original]
        if timestamp_type == "LogAppendTime":
            assert batch.timestamp_type == 1 and {r.timestamp for r in recs} == {1_000_000}
        else:
            assert out[16:] == raw[16:]  # stored exactly as sent, but for offset and epoch
            assert [r.timestamp for r in recs] == [r.timestamp for r in original]
        expected_offset += len(recs)
    log.close()


def test_client_reads_our_builder_batches() -> None:
    raw = build_batch([(b"a", b"1", [("h", b"v")]), (None, b"2")], timestamps=[5, 9],
                      base_offset=7, compression=GZIP)
    batch = records_mod.DefaultRecordBatch(bytearray(raw))
    assert batch.validate_crc() and batch.compression_type == GZIP
    assert [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in batch] == [
        (7, 5, b"a", b"1", [("h", b"v")]), (8, 9, None, b"2", [])]
