"""Transactions in the log: open transactions hold the last stable offset back, aborts are
listed for read_committed fetches and kept in Kafka's .txnindex, all rebuilt on open."""
from __future__ import annotations

from pathlib import Path

import pytest

from pystreams.broker.log import LogConfig, PartitionLog
from pystreams.broker.log.transactions import read_txn_index
from pystreams.broker.protocol.record_batch import (ABORT_MARKER, COMMIT_MARKER, build_batch,
                                                    build_control_batch)

pytestmark = pytest.mark.unit


def txn(pid: int, seq: int, n: int = 2) -> memoryview:
    return memoryview(build_batch([(b"k", b"v%d" % i) for i in range(n)], producer_id=pid,
                                  producer_epoch=0, base_sequence=seq, transactional=True,
                                  timestamp=1_000))


def marker(pid: int, kind: int) -> memoryview:
    return memoryview(build_control_batch(kind, producer_id=pid, producer_epoch=0,
                                          timestamp=1_000))


def plain() -> memoryview:
    return memoryview(build_batch([(b"p", b"q")], timestamp=1_000))


def test_lso_and_aborted_transactions(tmp_path: Path) -> None:
    log = PartitionLog.open(tmp_path / "t-0", LogConfig.from_props({"segment.bytes": "600"}))
    log.append(plain(), now_ms=1)                                  # 0
    log.append(txn(1, 0), now_ms=1)                                # 1-2  pid 1 open
    assert log.last_stable_offset == 1 and log.high_watermark == 3
    log.append(txn(2, 0), now_ms=1)                                # 3-4  pid 2 open
    log.append(txn(1, 2), now_ms=1)                                # 5-6
    log.append(marker(1, ABORT_MARKER), now_ms=1, origin="coordinator")   # 7
    assert log.last_stable_offset == 3                             # pid 2 still open
    log.append(marker(2, COMMIT_MARKER), now_ms=1, origin="coordinator")  # 8
    assert log.last_stable_offset == log.high_watermark == 9
    assert log.aborted_transactions(0, 9) == [(1, 1)]
    assert log.aborted_transactions(8, 9) == []                    # after the abort marker
    assert log.aborted_transactions(0, 1) == []                    # before it started
    segment = next(s for s in log.segments if s.base_offset <= 7 < s.next_offset)
    entries = read_txn_index(segment.txnindex_path)
    assert [(e.producer_id, e.first_offset, e.last_offset, e.last_stable_offset)
            for e in entries] == [(1, 1, 7, 3)]
    log.close()

    again = PartitionLog.open(tmp_path / "t-0", LogConfig.from_props({"segment.bytes": "600"}))
    assert again.aborted_transactions(0, 9) == [(1, 1)]
    again.append(txn(3, 0), now_ms=1)
    again.close()
    segment.txnindex_path.unlink()  # a crash between marker and index entry
    reopened = PartitionLog.open(tmp_path / "t-0", LogConfig.from_props({"segment.bytes": "600"}))
    assert reopened.last_stable_offset == 9  # pid 3's transaction is still open
    assert read_txn_index(segment.txnindex_path)[0].first_offset == 1
    reopened.close()
