"""Producer state snapshots (Kafka's `<offset>.snapshot`, ProducerSnapshot v1): written at
roll and close; a producer whose batches retention deleted is still known, also after a restart
(its retry is answered with the original offsets, a sequence gap still refused)."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

from pystreams.broker.log import LogConfig, OutOfOrderSequenceError, PartitionLog
from pystreams.broker.log.producer_snapshot import (list_snapshots, read_snapshot, snapshot_path,
                                                     write_snapshot)
from pystreams.broker.log.producer_state import BatchMetadata, ProducerEntry, ProducerStateManager
from pystreams.broker.protocol.record_batch import build_batch

pytestmark = pytest.mark.unit
CONFIG = {"segment.bytes": "300", "retention.bytes": "1"}


def _idem(seq: int, pid: int = 7) -> bytes:
    return build_batch([(b"k", b"v"), (b"k", b"w")], producer_id=pid, producer_epoch=3,
                       base_sequence=seq, timestamp=1_000)


def test_format_round_trip_and_damage(tmp_path: Path) -> None:
    state = ProducerStateManager()
    entry = ProducerEntry(3, last_timestamp=99)
    entry.batches.append(BatchMetadata(10, 12, 40, 42, 99))
    state.producers[7] = entry
    state.producers[8] = ProducerEntry(0, last_timestamp=5)
    state.ongoing[7] = 30
    write_snapshot(tmp_path, 43, state)
    raw = snapshot_path(tmp_path, 43).read_bytes()
    assert struct.unpack_from(">hIi", raw)[::2] == (1, 2) and len(raw) == 10 + 2 * 46
    back = read_snapshot(tmp_path, 43)
    assert back is not None and back.ongoing == {7: 30}
    assert list(back.producers[7].batches) == [BatchMetadata(10, 12, 40, 42, 99)]
    assert back.producers[8].epoch == 0 and not back.producers[8].batches
    snapshot_path(tmp_path, 43).write_bytes(raw[:-1] + bytes([raw[-1] ^ 1]))
    assert read_snapshot(tmp_path, 43) is None  # CRC mismatch: the log is rescanned instead


def test_producer_outlives_retention_and_restart(tmp_path: Path) -> None:
    log = PartitionLog.open(tmp_path / "p-0", LogConfig.from_props(CONFIG))
    first = log.append(memoryview(_idem(0)), now_ms=1_000)
    for i in range(6):  # other data rolls segments
        log.append(memoryview(build_batch([(b"x", b"y" * 50)], timestamp=1_000)), now_ms=1_000)
    assert list_snapshots(log.dir)
    log.enforce_retention(now_ms=1_000)
    assert log.log_start_offset > first.last_offset  # the producer's batch is gone
    retry = log.append(memoryview(_idem(0)), now_ms=1_000)
    assert (retry.base_offset, retry.last_offset) == (first.base_offset, first.last_offset)
    with pytest.raises(OutOfOrderSequenceError):
        log.append(memoryview(_idem(5)), now_ms=1_000)
    log.close()
    again = PartitionLog.open(tmp_path / "p-0", LogConfig.from_props(CONFIG),
                              had_clean_shutdown=True)
    try:
        with pytest.raises(OutOfOrderSequenceError):  # still known after the restart
            again.append(memoryview(_idem(5)), now_ms=1_000)
        assert again.append(memoryview(_idem(2)), now_ms=1_000).base_offset == \
            again.log_end_offset - 2
        assert min(list_snapshots(again.dir)[:-1] or [again.segments[0].base_offset]) >= \
            again.segments[0].base_offset
    finally:
        again.close()
