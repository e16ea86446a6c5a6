"""Compaction and transactions: committed transactional records are compacted like others,
aborted ones are removed, nothing at or after the last stable offset is touched, and the
background split (prepare on the loop, build on a thread, finish on the loop) tolerates
appends in between."""
from __future__ import annotations

from pathlib import Path

import pytest

from pystreams.broker.log import LogConfig, PartitionLog
from pystreams.broker.log.cleaner import CleanJob, build, cleanable_range, finish, prepare
from pystreams.broker.protocol.record_batch import (ABORT_MARKER, COMMIT_MARKER, build_batch,
                                                    build_control_batch, iter_batches,
                                                    read_records)

pytestmark = pytest.mark.unit
COMPACT = {"cleanup.policy": "compact", "segment.bytes": "600", "index.interval.bytes": "100",
           "min.cleanable.dirty.ratio": "0.01"}


def _records(log: PartitionLog) -> list:
    out = []
    for v in iter_batches(log.read(log.log_start_offset, 1 << 30).to_bytes()):
        v.validate()
        if not v.header.is_control:
            out += [(r.offset, r.key, r.value) for r in read_records(v.buf)]
    return out


def _txn(log: PartitionLog, pid: int, seq: int, recs, marker: int | None, now: int = 1000):
    log.append(build_batch(recs, producer_id=pid, producer_epoch=0, base_sequence=seq,
                           transactional=True, timestamp=now), now_ms=now)
    if marker is not None:
        log.append(build_control_batch(marker, producer_id=pid, producer_epoch=0,
                                       timestamp=now), now_ms=now, origin="coordinator")


def test_committed_compacted_aborted_removed_open_untouched(tmp_path: Path) -> None:
    log = PartitionLog.open(tmp_path / "t-0", LogConfig.from_props(COMPACT))
    seq = 0
    for r in range(6):  # committed updates of k1, k2
        _txn(log, 1, seq, [(b"k1", b"c%d" % r), (b"k2", b"c%d" % r)], COMMIT_MARKER)
        seq += 2
    _txn(log, 2, 0, [(b"k1", b"aborted"), (b"k3", b"aborted")], ABORT_MARKER)
    # (a producer's last batch is kept for its sequence state, as Kafka keeps it: pid 2 goes on)
    _txn(log, 2, 2, [(b"k5", b"after-abort")], COMMIT_MARKER)
    _txn(log, 1, seq, [(b"k2", b"late")], COMMIT_MARKER)
    seq += 1
    open_first = log.log_end_offset
    _txn(log, 3, 0, [(b"k1", b"open")], None)  # holds the LSO
    for i in range(8):  # plain records after it, across segments
        log.append(build_batch([(b"k4", b"p%d" % i)], timestamp=1000), now_ms=1000)
    assert log.last_stable_offset == open_first and len(log.segments) > 3
    before = _records(log)
    _, end = cleanable_range(log, 0, 2000)
    assert 0 < end <= open_first  # the LSO's segment and later ones are never cleanable
    log.compact(now_ms=2000, force=True)
    after = _records(log)
    cleaned = [r for r in after if r[0] < end]
    assert b"aborted" not in {v for _, _, v in cleaned}
    keys = [k for _, k, _ in cleaned]
    assert len(keys) == len(set(keys))  # at most one record per key below the cleanable end
    latest_below = {}
    for o, k, v in before:
        if o < end and v != b"aborted":
            latest_below[k] = v
    assert {k: v for _, k, v in cleaned} == latest_below
    # the open transaction and everything from `end` on are the same records
    assert [r for r in after if r[0] >= end] == [r for r in before if r[0] >= end]
    # offsets stay ordered and unique
    offsets = [o for o, _, _ in after]
    assert offsets == sorted(set(offsets))


def test_background_split_tolerates_appends_and_retention(tmp_path: Path) -> None:
    log = PartitionLog.open(tmp_path / "b-0", LogConfig.from_props(COMPACT))
    for r in range(30):
        log.append(build_batch([(b"k%d" % (r % 3), b"v%d" % r)], timestamp=1000), now_ms=1000)
    job = prepare(log, log.first_dirty_offset, 2000, force=True)
    assert isinstance(job, CleanJob)
    built = build(job)  # (would run on the cleaner thread)
    for r in range(30, 40):  # produce keeps going meanwhile; may roll new segments
        log.append(build_batch([(b"k%d" % (r % 3), b"v%d" % r)], timestamp=1000), now_ms=1000)
    result = finish(log, job, built, 2000)
    assert result.segments_cleaned > 0
    got = _records(log)
    assert [o for o, _, _ in got] == sorted({o for o, _, _ in got})
    latest = {}
    for _, k, v in got:
        latest[k] = v
    assert latest == {b"k0": b"v39", b"k1": b"v37", b"k2": b"v38"}
    assert not list(tmp_path.glob("b-0/*.cleaned"))
