"""Compaction (cleanup.policy=compact): the latest record per key survives at its original
offset, the active segment is untouched, tombstones go after delete.retention.ms, and what the
cleaner cannot decode or prove superseded is kept as is."""
from __future__ import annotations

from pathlib import Path

import pytest

from pystreams.broker.log import LogConfig, LogManager, PartitionLog
from pystreams.broker.log.checkpoint import read_checkpoint
from pystreams.broker.log.cleaner import cleanable_range, dirty_ratio
from pystreams.broker.protocol.record_batch import (GZIP, build_batch, build_control_batch,
                                                    iter_batches, read_records)

pytestmark = pytest.mark.unit
COMPACT = {"cleanup.policy": "compact", "segment.bytes": "1500", "index.interval.bytes": "200"}


def records(log: PartitionLog) -> list:
    data = log.read(log.log_start_offset, 1 << 30).to_bytes()
    out = []
    for v in iter_batches(data):
        v.validate()  # rebuilt batches carry a correct CRC
        out += read_records(v.buf)
    return out


def write_keys(log: PartitionLog, rounds: int, keys: int, *, compression: int = 0) -> dict:
    """rounds x keys single-record-per-key updates, two records per batch; returns the model
    {key: (offset, value)} of the latest write per key."""
    model = {}
    for r in range(rounds):
        for k in range(0, keys, 2):
            recs = [(b"key%d" % j, b"v%d-%d" % (r, j) * 5) for j in (k, k + 1)]
            info = log.append(memoryview(build_batch(recs, timestamp=1_000 + r,
                                                     compression=compression)), now_ms=1_000)
            for i, (key, value) in enumerate(recs):
                model[key] = (info.base_offset + i, value)
    return model


@pytest.mark.parametrize("compression", [0, GZIP])
def test_latest_value_per_key_survives_at_its_offset(tmp_path: Path, compression: int) -> None:
    log = PartitionLog.open(tmp_path / "c-0", LogConfig.from_props(COMPACT))
    write_keys(log, rounds=12, keys=6, compression=compression)
    before = records(log)
    active_base = log.active_segment.base_offset
    assert len(log.segments) >= 3
    result = log.compact(now_ms=2_000, force=True)
    assert result.segments_cleaned > 0 and result.bytes_after < result.bytes_before
    after = records(log)
    cleaned = [r for r in after if r.offset < active_base]
    # model: within the cleaned range, only each key's latest record remains
    latest = {}
    for r in before:
        if r.offset < active_base:
            latest[r.key] = r
    assert sorted(cleaned, key=lambda r: r.offset) == sorted(latest.values(),
                                                             key=lambda r: r.offset)
    assert [r for r in after if r.offset >= active_base] == [
        r for r in before if r.offset >= active_base]  # the active segment untouched
    assert log.first_dirty_offset == active_base
    # reads at offsets that fell into a gap land on the next surviving batch
    gap = next(o for o in range(active_base) if o not in {r.offset for r in cleaned})
    first = next(iter_batches(log.read(gap, 1).to_bytes()))
    assert first.header.last_offset >= gap
    log.close()
    reopened = PartitionLog.open(tmp_path / "c-0", LogConfig.from_props(COMPACT))
    assert records(reopened) == after and reopened.log_end_offset == log.log_end_offset
    reopened.close()


def test_tombstones_go_after_delete_retention(tmp_path: Path) -> None:
    props = {**COMPACT, "delete.retention.ms": "10000"}
    log = PartitionLog.open(tmp_path / "c-0", LogConfig.from_props(props))
    write_keys(log, rounds=3, keys=4)
    log.append(memoryview(build_batch([(b"key0", None), (b"key1", None)], timestamp=1_100)),
               now_ms=1_100)
    for r in range(10):  # only key2/key3 from here on
        log.append(memoryview(build_batch([(b"key2", b"x" * 50), (b"key3", b"y" * 50)],
                                          timestamp=1_200 + r)), now_ms=1_200)
    log.roll()
    log.compact(now_ms=5_000, force=True)  # tombstones younger than delete.retention.ms
    latest = {r.key: r.value for r in records(log)}
    assert latest == {b"key0": None, b"key1": None, b"key2": b"x" * 50, b"key3": b"y" * 50}
    log.compact(now_ms=20_000, force=True)
    assert {r.key for r in records(log)} == {b"key2", b"key3"}
    log.close()


def test_unreadable_and_transactional_batches_are_kept(tmp_path: Path) -> None:
    log = PartitionLog.open(tmp_path / "c-0", LogConfig.from_props(COMPACT))
    txn = build_batch([(b"key0", b"txn")], producer_id=5, producer_epoch=0, base_sequence=0,
                      transactional=True, timestamp=1_000)
    log.append(memoryview(txn), now_ms=1_000)
    log.append(memoryview(build_control_batch(1, producer_id=5, producer_epoch=0,
                                              timestamp=1_000)), now_ms=1_000,
               origin="coordinator")
    write_keys(log, rounds=10, keys=2)
    log.roll()
    log.compact(now_ms=2_000, force=True)
    data = log.read(0, 1 << 30).to_bytes()
    first, second = list(iter_batches(data))[:2]
    assert first.header.is_transactional and second.header.is_control
    assert [r.offset for r in records(log)][-2:] == [log.log_end_offset - 2,
                                                     log.log_end_offset - 1]
    log.close()


def test_delete_policy_and_lag_are_respected(tmp_path: Path) -> None:
    plain = PartitionLog.open(tmp_path / "d-0", LogConfig.from_props({"segment.bytes": "1500"}))
    write_keys(plain, rounds=10, keys=2)
    size = plain.size_bytes
    assert plain.compact(now_ms=2_000, force=True).segments_cleaned == 0
    assert plain.size_bytes == size
    plain.close()
    lagged = PartitionLog.open(tmp_path / "l-0", LogConfig.from_props(
        {**COMPACT, "min.compaction.lag.ms": "100000"}))
    write_keys(lagged, rounds=30, keys=2)
    assert len(lagged.segments) > 1
    assert lagged.compact(now_ms=2_000, force=True).segments_cleaned == 0
    assert lagged.compact(now_ms=500_000, force=True).segments_cleaned > 0
    lagged.close()


def test_dirty_ratio_gates_a_pass(tmp_path: Path) -> None:
    log = PartitionLog.open(tmp_path / "c-0", LogConfig.from_props(
        {**COMPACT, "min.cleanable.dirty.ratio": "0.9"}))
    write_keys(log, rounds=30, keys=2)
    assert log.compact(now_ms=2_000).segments_cleaned > 0   # never cleaned: ratio 1.0
    write_keys(log, rounds=1, keys=2)
    log.roll()
    start, end = cleanable_range(log, log.first_dirty_offset, 2_000)
    assert 0 < dirty_ratio(log, start, end) < 0.9
    assert log.compact(now_ms=2_000).segments_cleaned == 0
    assert log.compact(now_ms=2_000, force=True).segments_cleaned > 0
    log.close()


def test_manager_cleans_and_checkpoints(tmp_path: Path) -> None:
    mgr = LogManager(tmp_path, LogConfig())
    log = mgr.create_partition("changelog", 0, COMPACT)
    write_keys(log, rounds=30, keys=2)
    assert mgr.clean(now_ms=2_000) > 0
    point = read_checkpoint(tmp_path / "cleaner-offset-checkpoint")
    assert point == {("changelog", 0): log.active_segment.base_offset}
    mgr.close()
    again = LogManager(tmp_path, LogConfig(), topic_overrides={"changelog": COMPACT})
    assert again.get("changelog", 0).first_dirty_offset == point[("changelog", 0)]
    again.close()


def test_compaction_keeps_idempotent_producers_in_sequence(tmp_path: Path) -> None:
    log = PartitionLog.open(tmp_path / "c-0", LogConfig.from_props(COMPACT))
    seq = 0
    for r in range(15):
        batch = build_batch([(b"key0", b"r%d" % r * 20), (b"key1", b"r%d" % r * 20)],
                            producer_id=9, producer_epoch=0, base_sequence=seq,
                            timestamp=1_000)
        log.append(memoryview(batch), now_ms=1_000)
        seq += 2
    # a plain producer supersedes both keys: producer 9's batches are all redundant now
    log.append(memoryview(build_batch([(b"key0", b"x"), (b"key1", b"y")], timestamp=1_000)),
               now_ms=1_000)
    log.roll()
    assert log.compact(now_ms=2_000, force=True).segments_cleaned > 0
    batches = list(iter_batches(log.read(0, 1 << 30).to_bytes()))
    # only producer 9's last batch (kept whole for its sequence state) and the plain one
    assert [(b.header.producer_id, b.header.base_offset) for b in batches] == [(9, 28), (-1, 30)]
    log.close()
    again = PartitionLog.open(tmp_path / "c-0", LogConfig.from_props(COMPACT))
    nxt = build_batch([(b"key0", b"next")], producer_id=9, producer_epoch=0,
                      base_sequence=seq, timestamp=1_000)
    assert again.append(memoryview(nxt), now_ms=1_000).base_offset == 32  # still in sequence
    again.close()


def test_rebuilt_batch_keeps_original_last_offset(tmp_path: Path) -> None:
    log = PartitionLog.open(tmp_path / "c-0", LogConfig.from_props(COMPACT))
    log.append(memoryview(build_batch([(b"a", b"1"), (b"b", b"1"), (b"a", b"2")],
                                      timestamp=1_000)), now_ms=1_000)
    log.roll()
    log.compact(now_ms=2_000, force=True)
    (v,) = iter_batches(log.read(0, 1 << 30).to_bytes())
    assert (v.header.base_offset, v.header.last_offset, v.header.records_count) == (0, 2, 2)
    assert [r.offset for r in read_records(v.buf)] == [1, 2]
    log.close()


def test_rebuilt_transactional_batch_stays_transactional(tmp_path: Path) -> None:
    # Kafka's filterTo rebuilds a batch with the original's producer fields and transactional flag
    log = PartitionLog.open(tmp_path / "c-0", LogConfig.from_props(COMPACT))
    txn = build_batch([(b"a", b"old"), (b"b", b"1")], producer_id=5, producer_epoch=0, base_sequence=0,
                      transactional=True, timestamp=1_000)
    log.append(memoryview(txn), now_ms=1_000)
    log.append(memoryview(build_control_batch(1, producer_id=5, producer_epoch=0, timestamp=1_000)),
               now_ms=1_000, origin="coordinator")
    log.append(memoryview(build_batch([(b"a", b"new")], timestamp=1_000)), now_ms=1_000)
    log.roll()
    log.compact(now_ms=2_000, force=True)
    first = next(iter_batches(log.read(0, 1 << 30).to_bytes()))
    assert [r.offset for r in read_records(first.buf)] == [1]  # rebuilt: a's old value is gone
    h = first.header
    assert h.is_transactional and (h.producer_id, h.producer_epoch, h.base_sequence) == (5, 0, 0)
    log.close()
