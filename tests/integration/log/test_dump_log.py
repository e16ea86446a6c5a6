"""Kafka's own kafka-dump-log (kafka.tools.DumpLogSegments) decodes our segment files: every
record of every batch (plain, gzip, transactional, control, LogAppendTime), our .index with no
mismatches, our .timeindex in order."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pystreams.broker.log import LogConfig, PartitionLog
from pystreams.broker.protocol.record_batch import (GZIP, build_batch, build_control_batch,
                                                    iter_batches, read_records)

pytestmark = [pytest.mark.integration, pytest.mark.reference]
ROOT = Path(__file__).resolve().parents[3]
LIB = ROOT / ".cache" / "reference" / "lib"


def dump_log(*files: Path, data: bool = True) -> str:
    args = ["--files", ",".join(str(f) for f in files)] + (["--print-data-log"] if data else [])
    try:
        from tests.reference.tools import run_tool  # the reference room's wrapper, when there
    except ImportError:
        if shutil.which("java") is None or not list(LIB.glob("kafka-tools-*.jar")):
            pytest.skip("reference jars or java missing: run scripts/reference.sh fetch")
        done = subprocess.run(["java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp",
                               f"{LIB}/*", "kafka.tools.DumpLogSegments", *args],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout
    result = run_tool("kafka-dump-log", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_dump_log_reads_every_record_of_our_segments(tmp_path: Path) -> None:
    d = tmp_path / "dump-0"
    log = PartitionLog.open(d, LogConfig.from_props({"segment.bytes": "3000",
                                                     "index.interval.bytes": "300"}))
    seq = 0  # producer 77's next sequence number
    for i in range(60):
        n = 1 + i % 4
        recs = [(b"key-%d-%d" % (i, j), b"value-%d-%d" % (i, j) * 5, [("h", b"%d" % j)])
                for j in range(n)]
        if i % 10 == 7:
            raw = build_control_batch(1, producer_id=77, producer_epoch=0, timestamp=5_000 + i)
            log.append(memoryview(raw), now_ms=10_000, origin="coordinator")
            continue
        raw = build_batch(recs, timestamps=[5_000 + i] * n, compression=GZIP if i % 3 else 0,
                          producer_id=77 if i % 5 == 0 else -1,
                          producer_epoch=0 if i % 5 == 0 else -1,
                          base_sequence=seq if i % 5 == 0 else -1)
        seq += n if i % 5 == 0 else 0
        log.append(memoryview(raw), now_ms=10_000)
    stored = log.read(0, 1 << 30).to_bytes()
    expected = {r.offset: r for v in iter_batches(stored) for r in read_records(v.buf)}
    segments = [(s.log_path, s.index_path, s.timeindex_path) for s in log.segments]
    indexes = {s.index_path: list(zip(s.offset_index.relative_offsets, s.offset_index.positions))
               for s in log.segments}
    log.close()
    assert len(segments) >= 3

    files = [f for seg in segments for f in seg]
    out = dump_log(*files)
    assert "isvalid: false" not in out and "Mismatches" not in out and "Found" not in out
    assert out.count("isvalid: true") == sum(1 for _ in iter_batches(stored))
    printed = {int(m[0]): m for m in re.findall(
        r"\| offset: (\d+) (?:CreateTime|LogAppendTime): (-?\d+) keySize: (-?\d+) "
        r"valueSize: (-?\d+).*?(?:key: (\S*) )?payload: (\S*)$|"
        r"\| offset: (\d+) .*endTxnMarker", out, re.M) if m[0]}
    control_offsets = {int(m) for m in re.findall(r"\| offset: (\d+) .*endTxnMarker: COMMIT", out)}
    for offset, rec in expected.items():
        if offset in control_offsets:
            continue
        assert offset in printed, f"offset {offset} missing from kafka-dump-log output"
        _, ts, key_size, value_size, key, payload = printed[offset][:6]
        assert int(ts) == rec.timestamp and int(value_size) == len(rec.value or b"")
        assert key.encode() == rec.key and payload.encode() == rec.value
    assert len(control_offsets) == 6
    assert set(printed) | control_offsets == set(expected)
    for (_, index_path, _), entries in zip(segments, indexes.values()):
        base = int(index_path.stem)
        listed = [(int(o) - base, int(p)) for o, p in re.findall(
            r"offset: (\d+) position: (\d+)", _section(out, index_path))]
        assert listed == entries and entries
    assert "timestamp: 5" in _section(out, segments[0][2])


def _section(out: str, path: Path) -> str:
    start = out.index(f"Dumping {path}")
    nxt = out.find("Dumping ", start + 1)
    return out[start:nxt if nxt >= 0 else len(out)]


def test_dump_log_reads_compacted_segments(tmp_path: Path) -> None:
    d = tmp_path / "compacted-0"
    log = PartitionLog.open(d, LogConfig.from_props({"cleanup.policy": "compact",
                                                     "segment.bytes": "2000",
                                                     "index.interval.bytes": "200"}))
    for r in range(20):
        recs = [(b"key%d" % k, b"round%d" % r * 4) for k in range(3)]
        log.append(memoryview(build_batch(recs, timestamp=1_000 + r,
                                          compression=GZIP if r % 2 else 0)), now_ms=2_000)
    log.roll()
    assert log.compact(now_ms=3_000, force=True).segments_cleaned > 0
    survivors = {r.offset: r for v in iter_batches(log.read(0, 1 << 30).to_bytes())
                 for r in read_records(v.buf)}
    files = [f for s in log.segments if s.size for f in (s.log_path, s.index_path)]
    log.close()
    assert len(survivors) == 3
    out = dump_log(*files)
    assert "isvalid: false" not in out and "Mismatches" not in out
    listed = {int(o): p for o, p in re.findall(r"\| offset: (\d+) .*payload: (\S+)", out)}
    assert {o: r.value.decode() for o, r in survivors.items()} == listed


def test_dump_log_reads_our_txnindex(tmp_path: Path) -> None:
    log = PartitionLog.open(tmp_path / "txn-0", LogConfig())
    log.append(memoryview(build_batch([(b"k", b"v")] * 3, producer_id=4, producer_epoch=0,
                                      base_sequence=0, transactional=True)), now_ms=1)
    log.append(memoryview(build_control_batch(0, producer_id=4, producer_epoch=0)), now_ms=1,
               origin="coordinator")
    seg = log.active_segment
    log.close()
    out = dump_log(seg.txnindex_path, seg.log_path)
    assert "producerId: 4 firstOffset: 0 lastOffset: 3 lastStableOffset: 4" in out
    assert "endTxnMarker: ABORT" in out
