"""Recovery on open: torn tails cut to the last whole batch, damaged indexes rebuilt, and the
flush policy that moves the recovery point."""
from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from pystreams.broker.log import LogConfig, PartitionLog
from pystreams.broker.protocol.record_batch import iter_batches, read_records
from tests.fixtures.log_storage import make_batch

pytestmark = pytest.mark.unit

CONFIG = {"segment.bytes": "3000", "index.interval.bytes": "200"}


def build(d: Path, n: int = 40) -> tuple[list[bytes], list[int]]:
    """n single-append batches; returns the stored batches and each one's base offset."""
    log = PartitionLog.open(d, LogConfig.from_props(CONFIG))
    bases = []
    for i in range(n):
        bases.append(log.append(memoryview(make_batch(1 + i % 3, value_size=40, tag=i)),
                                now_ms=1).base_offset)
    stored = [bytes(v.buf) for v in iter_batches(log.read(0, 1 << 30).to_bytes())]
    log.close()
    return stored, bases


def reopen(d: Path, **kwargs: object) -> PartitionLog:
    return PartitionLog.open(d, LogConfig.from_props(CONFIG), **kwargs)  # type: ignore[arg-type]


def all_bytes(log: PartitionLog) -> bytes:
    return log.read(log.log_start_offset, 1 << 30).to_bytes()


def last_log(d: Path) -> Path:
    return sorted(d.glob("*.log"))[-1]


@pytest.mark.parametrize("clean", [False, True])
@pytest.mark.parametrize("cut", [1, 30, 61, 70])
def test_torn_tail_is_cut_to_the_last_whole_batch(tmp_path: Path, cut: int, clean: bool) -> None:
    d = tmp_path / "t-0"
    stored, bases = build(d)
    path = last_log(d)
    os.truncate(path, path.stat().st_size - len(stored[-1]) + cut)
    log = reopen(d, had_clean_shutdown=clean)  # even a "clean" open checks the tail's sizes
    assert log.log_end_offset == bases[-1]  # the torn batch is gone, the rest intact
    assert all_bytes(log) == b"".join(stored[:-1])
    info = log.append(memoryview(make_batch(1, tag=99)), now_ms=1)
    assert info.base_offset == bases[-1]
    log.close()


def test_zero_filled_tail_is_cut(tmp_path: Path) -> None:
    d = tmp_path / "t-0"
    stored, _ = build(d)
    with open(last_log(d), "ab") as f:
        f.write(b"\0" * 4096)  # what a crash can leave after a preallocated/extended file
    log = reopen(d)
    assert all_bytes(log) == b"".join(stored)
    log.close()


def test_crc_damage_cuts_there_even_when_sizes_look_fine(tmp_path: Path) -> None:
    d = tmp_path / "t-0"
    stored, bases = build(d)
    path = last_log(d)
    data = bytearray(path.read_bytes())
    seg_base = int(path.stem)
    k = bases.index(seg_base) + 2  # damage the third batch of the last segment
    pos = sum(len(b) for b in stored[bases.index(seg_base):k])
    data[pos + 70] ^= 0x40
    path.write_bytes(data)
    log = reopen(d)
    assert log.log_end_offset == bases[k]
    assert all_bytes(log) == b"".join(stored[:k])
    log.close()


def test_damage_in_an_older_segment_drops_what_follows(tmp_path: Path) -> None:
    d = tmp_path / "t-0"
    stored, bases = build(d)
    logs = sorted(d.glob("*.log"))
    assert len(logs) >= 3
    data = bytearray(logs[0].read_bytes())
    data[-5] ^= 0xFF  # last batch of the first segment
    logs[0].write_bytes(data)
    log = reopen(d, recovery_point=0)
    assert [s.base_offset for s in log.segments] == [0]
    assert not logs[1].exists() and not logs[1].with_suffix(".index").exists()
    # the first segment keeps every batch before the damaged one (its last)
    kept = bases.index(int(logs[1].stem)) - 1
    assert all_bytes(log) == b"".join(stored[:kept]) and log.log_end_offset == bases[kept]
    log.close()


def test_recovery_point_limits_the_scan(tmp_path: Path, monkeypatch) -> None:
    d = tmp_path / "t-0"
    build(d)
    segs = sorted(int(p.stem) for p in d.glob("*.log"))
    from pystreams.broker.log.segment import LogSegment
    recovered: list[int] = []
    original = LogSegment.recover
    monkeypatch.setattr(LogSegment, "recover",
                        lambda self: recovered.append(self.base_offset) or original(self))
    reopen(d, recovery_point=segs[-1] + 1).close()
    assert recovered == [segs[-1]]
    recovered.clear()
    reopen(d, had_clean_shutdown=True).close()
    assert recovered == []


@pytest.mark.parametrize("damage", ["delete", "garbage", "odd_size", "wrong_position"])
def test_damaged_indexes_are_rebuilt_identically(tmp_path: Path, damage: str) -> None:
    d = tmp_path / "t-0"
    stored, bases = build(d)
    originals = {p.name: p.read_bytes() for p in d.glob("*index")}
    first_index, first_time = sorted(d.glob("*.index"))[0], sorted(d.glob("*.timeindex"))[0]
    assert len(originals[first_index.name]) >= 16
    if damage == "delete":
        first_index.unlink()
        first_time.unlink()
    elif damage == "garbage":
        first_index.write_bytes(os.urandom(len(originals[first_index.name])))
        first_time.write_bytes(struct.pack(">qi", 5, 0) + struct.pack(">qi", 1, 3))
    elif damage == "odd_size":
        first_index.write_bytes(originals[first_index.name] + b"\1\2\3")
    else:  # plausible-looking entry that points into the middle of a batch
        first_index.write_bytes(struct.pack(">ii", 1, 7))
    log = reopen(d, had_clean_shutdown=True)
    for target in range(0, log.log_end_offset, 3):
        first = next(iter_batches(log.read(target, 1).to_bytes()))
        assert first.header.base_offset <= target <= first.header.last_offset
    log.close()
    if damage != "wrong_position":
        assert {p.name: p.read_bytes() for p in d.glob("*index")} == originals


def test_missing_timeindex_still_answers_timestamps(tmp_path: Path) -> None:
    d = tmp_path / "t-0"
    build(d)
    for p in d.glob("*.timeindex"):
        p.unlink()
    log = reopen(d, had_clean_shutdown=True)
    off, ts = log.offset_for_timestamp(0)
    assert (off, ts) == (0, 1_000)
    log.close()


def test_flush_messages_moves_the_recovery_point(tmp_path: Path, monkeypatch) -> None:
    fsyncs: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: fsyncs.append(fd) or real(fd))
    log = PartitionLog.open(tmp_path / "t-0", LogConfig.from_props({"flush.messages": "5"}))
    start = len(fsyncs)
    log.append(memoryview(make_batch(3)), now_ms=1)
    assert log.recovery_point == 0 and len(fsyncs) == start
    log.append(memoryview(make_batch(3)), now_ms=1)
    assert log.recovery_point == 6 and len(fsyncs) > start
    log.close()


def test_flush_ms_and_default_never_flushes(tmp_path: Path, clock) -> None:
    log = PartitionLog.open(tmp_path / "a-0", LogConfig.from_props({"flush.ms": "1000"}),
                            clock=clock)
    log.append(memoryview(make_batch(1)), now_ms=clock.now_ms)
    assert log.recovery_point == 0
    assert log.maybe_flush(clock.now_ms + 1001) and log.recovery_point == 1
    log.close()
    default = PartitionLog.open(tmp_path / "b-0", LogConfig(), clock=clock)
    default.append(memoryview(make_batch(1)), now_ms=clock.now_ms)
    assert not default.maybe_flush(clock.now_ms + 10**9) and default.recovery_point == 0
    default.close()


def test_records_survive_reopen_byte_for_byte(tmp_path: Path) -> None:
    d = tmp_path / "t-0"
    stored, bases = build(d)
    log = reopen(d)
    data = all_bytes(log)
    assert data == b"".join(stored)
    assert [r.offset for v in iter_batches(data) for r in read_records(v.buf)] == list(
        range(log.log_end_offset))
    log.close()
