"""Idempotent producers: retries answered with the first write's offsets, sequence gaps and
fenced epochs refused with Kafka's codes, state rebuilt from the log on open."""
from __future__ import annotations

from pathlib import Path

import pytest

from pystreams.broker.log import (InvalidProducerEpochError, LogConfig, OutOfOrderSequenceError,
                                  PartitionLog)
from pystreams.broker.protocol.record_batch import build_batch

pytestmark = pytest.mark.unit


def idem(seq: int, n: int = 2, *, pid: int = 7, epoch: int = 0, tag: bytes = b"") -> bytes:
    return build_batch([(b"k" + tag, b"v%d" % i) for i in range(n)], producer_id=pid,
                       producer_epoch=epoch, base_sequence=seq, timestamp=1_000)


def test_retry_returns_original_offsets_without_appending(open_log) -> None:
    log = open_log()
    log.append(memoryview(build_batch([(b"x", b"y")])), now_ms=1)
    first = log.append(memoryview(idem(0)), now_ms=1)
    second = log.append(memoryview(idem(2)), now_ms=1)
    size = log.size_bytes
    retry = log.append(memoryview(idem(0)), now_ms=1)
    assert (retry.base_offset, retry.last_offset) == (first.base_offset, first.last_offset)
    assert (retry.base_offset, retry.last_offset) == (1, 2) and second.base_offset == 3
    assert log.size_bytes == size and log.log_end_offset == 5


def test_gaps_and_fenced_epochs_are_refused(open_log) -> None:
    log = open_log()
    log.append(memoryview(idem(0)), now_ms=1)
    with pytest.raises(OutOfOrderSequenceError) as e:
        log.append(memoryview(idem(5)), now_ms=1)
    assert e.value.code == 45
    log.append(memoryview(idem(0, epoch=1)), now_ms=1)  # a bumped epoch restarts at 0
    with pytest.raises(InvalidProducerEpochError) as f:
        log.append(memoryview(idem(2, epoch=0)), now_ms=1)
    assert f.value.code == 47
    with pytest.raises(OutOfOrderSequenceError):
        log.append(memoryview(idem(3, epoch=2)), now_ms=1)
    assert log.log_end_offset == 4
    # batches of one payload are checked in order against each other
    ok = idem(2, epoch=1) + idem(4, epoch=1, tag=b"b")
    assert log.append(memoryview(ok), now_ms=1).last_offset == 7
    with pytest.raises(OutOfOrderSequenceError):
        log.append(memoryview(idem(6, epoch=1) + idem(9, epoch=1)), now_ms=1)
    assert log.log_end_offset == 8


def test_unknown_producer_may_start_anywhere_and_sequences_wrap(open_log) -> None:
    log = open_log()
    log.append(memoryview(idem(2**31 - 2, n=2)), now_ms=1)  # state lost: accept
    assert log.append(memoryview(idem(0)), now_ms=1).base_offset == 2  # wraps to 0


def test_state_is_rebuilt_on_open(tmp_path: Path) -> None:
    d = tmp_path / "t-0"
    log = PartitionLog.open(d, LogConfig.from_props({"segment.bytes": "400"}))
    infos = [log.append(memoryview(idem(2 * i)), now_ms=1) for i in range(6)]
    assert len(log.segments) > 1
    log.close()
    again = PartitionLog.open(d, LogConfig.from_props({"segment.bytes": "400"}))
    retry = again.append(memoryview(idem(10)), now_ms=1)
    assert retry.base_offset == infos[-1].base_offset and again.log_end_offset == 12
    with pytest.raises(OutOfOrderSequenceError):
        again.append(memoryview(idem(14)), now_ms=1)
    assert again.append(memoryview(idem(12)), now_ms=1).base_offset == 12
    again.close()


def test_idle_producers_expire(open_log) -> None:
    log = open_log(producer_id_expiration_ms=1_000)
    log.append(memoryview(idem(0)), now_ms=1)
    log.enforce_retention(now_ms=500)
    with pytest.raises(OutOfOrderSequenceError):
        log.append(memoryview(idem(9)), now_ms=1)
    log.enforce_retention(now_ms=10_000)
    assert log.append(memoryview(idem(9)), now_ms=1).base_offset == 2
