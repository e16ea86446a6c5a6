"""ChangelogReader never hangs silently (Kafka's StoreChangelogReader / task.timeout.ms), on a fake restore consumer
and a fake clock: a changelog whose last offsets are a transaction marker or aborted records is restored once the
consumer's position is past them (with or without a partition EOF); a truncated changelog restores what it has;
progress is logged every 10 s; no progress for task.timeout.ms raises a StateStoreError that names the partition;
transient consumer errors are retried, fatal ones raised."""
from __future__ import annotations

import logging
from typing import Any

import pytest
from confluent_kafka import KafkaError

from pystreams.errors import StateStoreError
from pystreams.processor.task_id import TaskId
from pystreams.runtime.restore import ChangelogReader
from tests.unit.runtime.test_restore_changelog_reader import (
    CL,
    FakeConsumer,
    FakeMessage,
    _task,
)

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class GappyConsumer(FakeConsumer):
    """Data only at `data` offsets (the rest are transaction markers / aborted records the consumer skips); the
    position lands at the log end after the last one, as librdkafka's does; EOF optional; `stuck` hands out
    nothing at all (a leader that does not answer)."""

    def __init__(self, ends: dict[tuple[str, int], int], data: set[int], eof: bool = True) -> None:
        super().__init__(ends)
        self.data, self.eof, self.stuck, self.errors = data, eof, False, []

    def consume(self, num_messages: int, timeout: float) -> list[Any]:
        out: list[Any] = list(self.errors)
        self.errors = []
        if self.stuck:
            return out
        for tp, pos in sorted(self.positions.items()):
            end = self.ends[tp]
            while pos < end and len(out) < num_messages:
                if pos in self.data:
                    out.append(FakeMessage(tp[0], tp[1], pos))
                pos += 1
            self.positions[tp] = pos
            if self.eof and pos >= end and tp not in self.eof_sent:
                self.eof_sent.add(tp)
                out.append(FakeMessage(tp[0], tp[1], end, eof=True))
        return out


class FakeError:
    def __init__(self, code: int, fatal: bool) -> None:
        self._code, self._fatal = code, fatal

    def code(self) -> int:
        return self._code

    def fatal(self) -> bool:
        return self._fatal

    def __str__(self) -> str:
        return "err"


class ErrorMessage(FakeMessage):
    def __init__(self, code: int, fatal: bool) -> None:
        super().__init__(CL, 0, -1001)
        self._err = FakeError(code, fatal)

    def error(self) -> Any:
        return self._err


@pytest.mark.parametrize("eof", [True, False], ids=["eof", "position-only"])
def test_a_changelog_ending_in_a_commit_marker_is_restored(tmp_path, eof):
    # offsets 0-4 committed (marker 5), 6-8 committed (marker 9): end offset 10, last data record 8
    consumer = GappyConsumer({(CL, 0): 10}, data={0, 1, 2, 3, 4, 6, 7, 8}, eof=eof)
    reader = ChangelogReader(consumer, eos=True, clock=Clock())
    at = _task(tmp_path, 0)
    reader.add(at, [("in", 0)])
    restored, ready = reader.restore(1000, 0.0)
    assert restored == 8 and [rt.at for rt in ready] == [at]
    assert [o for _, o in at.task.restored] == [0, 1, 2, 3, 4, 6, 7, 8]


def test_an_aborted_transaction_at_the_end_is_skipped_and_the_task_is_restored(tmp_path):
    # 0-4 committed, marker 5; 6-8 aborted, abort marker 9: only 0-4 reach the store
    consumer = GappyConsumer({(CL, 0): 10}, data={0, 1, 2, 3, 4}, eof=False)
    reader = ChangelogReader(consumer, eos=True, clock=Clock())
    at = _task(tmp_path, 0)
    reader.add(at, [("in", 0)])
    restored, ready = reader.restore(1000, 0.0)
    assert restored == 5 and [rt.at for rt in ready] == [at]


def test_an_eof_below_the_end_offset_restores_what_the_changelog_has_and_says_so(tmp_path, caplog):
    consumer = GappyConsumer({(CL, 0): 100}, data=set(range(100)))
    reader = ChangelogReader(consumer, eos=False, clock=Clock())
    at = _task(tmp_path, 0)
    reader.add(at, [("in", 0)])
    consumer.ends[(CL, 0)] = 60  # truncated after the end offset was read
    with caplog.at_level(logging.WARNING, logger="pystreams.runtime"):
        _, ready = reader.restore(1000, 0.0)
    assert [rt.at for rt in ready] == [at] and len(at.task.restored) == 60
    assert "ends at offset 60, below the end offset 100" in caplog.text


def test_no_progress_rereads_the_end_and_finishes_a_truncated_changelog(tmp_path, caplog):
    clock = Clock()
    consumer = GappyConsumer({(CL, 0): 100}, data=set(range(100)), eof=False)
    reader = ChangelogReader(consumer, eos=False, stall_timeout_s=120.0, clock=clock)
    at = _task(tmp_path, 0)
    reader.add(at, [("in", 0)])
    consumer.stuck = True
    assert reader.restore(1000, 0.0) == (0, [])
    consumer.ends[(CL, 0)] = 0  # the changelog was deleted and re-created empty
    clock.now += 29
    assert reader.restore(1000, 0.0) == (0, [])  # not yet re-checked (recheck after 30 s)
    clock.now += 2
    with caplog.at_level(logging.WARNING, logger="pystreams.runtime"):
        _, ready = reader.restore(1000, 0.0)
    assert [rt.at for rt in ready] == [at]
    assert "no progress for 31 s at position 0 of 100" in caplog.text and "now ends at 0" in caplog.text


def test_no_progress_for_task_timeout_raises_a_clear_error(tmp_path):
    clock = Clock()
    consumer = GappyConsumer({(CL, 0): 100}, data=set(range(100)))
    reader = ChangelogReader(consumer, eos=True, stall_timeout_s=120.0, clock=clock)
    at = _task(tmp_path, 0)
    reader.add(at, [("in", 0)])
    consumer.stuck = True
    consumer.errors = [ErrorMessage(KafkaError._TRANSPORT, fatal=False)]
    assert reader.restore(1000, 0.0) == (0, [])  # a transient error: logged, retried
    for _ in range(3):
        clock.now += 31
        reader.restore(1000, 0.0)
    clock.now += 31  # 124 s without progress
    with pytest.raises(StateStoreError) as e:
        reader.restore(1000, 0.0)
    text = str(e.value)
    assert f"{CL}-0" in text and "task 0_0" in text and "position 0, end offset 100" in text
    assert "made no progress for 124 s" in text and "last consumer error: err" in text


def test_progress_resets_the_stall_clock(tmp_path):
    clock = Clock()
    consumer = GappyConsumer({(CL, 0): 300}, data=set(range(300)))
    reader = ChangelogReader(consumer, eos=False, stall_timeout_s=120.0, clock=clock)
    reader.add(_task(tmp_path, 0), [("in", 0)])
    for _ in range(2):  # 100 records every 100 s: slow, but moving
        clock.now += 100
        reader.restore(100, 0.0)
    assert TaskId(0, 0) in reader


def test_a_fatal_consumer_error_is_raised(tmp_path):
    consumer = GappyConsumer({(CL, 0): 10}, data=set(range(10)))
    reader = ChangelogReader(consumer, eos=True, clock=Clock())
    reader.add(_task(tmp_path, 0), [("in", 0)])
    consumer.errors = [ErrorMessage(KafkaError._FENCED, fatal=True)]
    with pytest.raises(StateStoreError, match=f"restore of changelog {CL}-0 failed"):
        reader.restore(1000, 0.0)


def test_progress_is_logged_every_ten_seconds(tmp_path, caplog):
    clock = Clock()
    consumer = GappyConsumer({(CL, 0): 5000}, data=set(range(5000)))
    reader = ChangelogReader(consumer, eos=False, clock=clock)
    reader.add(_task(tmp_path, 0), [("in", 0)])
    with caplog.at_level(logging.INFO, logger="pystreams.runtime"):
        reader.restore(1000, 0.0)
        clock.now += 5
        reader.restore(1000, 0.0)
        assert "Restoration in progress" not in caplog.text
        clock.now += 5
        reader.restore(1000, 0.0)
        assert f"Restoration in progress for 1 partitions. {{{CL}-0: position=3000, end=5000, totalRestored=3000}}" \
            in caplog.text
        while reader:
            reader.restore(1000, 0.0)
    assert f"Finished restoring changelog {CL}-0 to store store with a total number of 5000 records" in caplog.text
