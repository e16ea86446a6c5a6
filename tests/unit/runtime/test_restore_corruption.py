"""ChangelogReader when the changelog no longer matches the local state (Kafka's TaskCorruptedException from the
restore consumer's InvalidOffsetException): a checkpoint out of the changelog's range at registration, or a
changelog truncated / re-created while restoring, wipes the task's state (wipe_and_revive) and restores it from
the beginning; valid checkpoints at the range's edges are kept. Fake restore consumer, no broker."""
from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.runtime.checkpoint import write_checkpoint
from pystreams.runtime.restore import ChangelogReader
from tests.unit.runtime.test_restore_changelog_reader import (
    CL,
    FakeConsumer,
    FakeStreamTask,
    _task,
)

pytestmark = pytest.mark.unit

TP = (CL, 0)


class LogConsumer(FakeConsumer):
    """FakeConsumer with a log start offset; an out-of-range position is reset to the log start, as librdkafka
    does with auto.offset.reset=earliest (silently: no error event reaches the application)."""

    def __init__(self, ends: dict[tuple[str, int], int], starts: dict[tuple[str, int], int] | None = None) -> None:
        super().__init__(ends)
        self.starts = dict(starts or {})

    def get_watermark_offsets(self, tp: Any, timeout: float, cached: bool) -> tuple[int, int]:
        key = (tp.topic, tp.partition)
        return self.starts.get(key, 0), self.ends[key]

    def incremental_assign(self, tps: list[Any]) -> None:
        super().incremental_assign(tps)
        for tp in tps:
            key = (tp.topic, tp.partition)
            self.positions[key] = self.starts.get(key, 0) if tp.offset < 0 else tp.offset
            self.eof_sent.discard(key)

    def consume(self, num_messages: int, timeout: float) -> list[Any]:
        for key, pos in self.positions.items():
            if not self.starts.get(key, 0) <= pos <= self.ends[key]:
                self.positions[key] = self.starts.get(key, 0)
                self.eof_sent.discard(key)
        return super().consume(num_messages, timeout)


def _revivable(tmp_path: Any) -> Any:
    at = _task(tmp_path, 0)
    at.wiped = 0

    def wipe_and_revive() -> None:
        at.wiped += 1
        at.task = FakeStreamTask()  # a fresh, empty store

    at.wipe_and_revive = wipe_and_revive
    return at


@pytest.mark.parametrize(("start", "end", "checkpointed"), [(600, 1000, 499), (0, 300, 499)],
                         ids=["deleted-records-past-the-checkpoint", "checkpoint-past-the-end"])
def test_a_checkpoint_out_of_the_changelogs_range_wipes_and_restores_from_the_beginning(tmp_path, caplog, start, end,
                                                                                      checkpointed):
    consumer = LogConsumer({TP: end}, {TP: start})
    reader = ChangelogReader(consumer, eos=False)
    at = _revivable(tmp_path)
    write_checkpoint(at.task_dir, {TP: checkpointed})
    with caplog.at_level(logging.WARNING, logger="pystreams.runtime"):
        assert reader.add(at, [("in", 0)]) is False
    assert at.wiped == 1 and reader.corrupted == 1
    assert "task 0_0 is corrupted" in caplog.text and "is wiped and restored from the beginning" in caplog.text
    assert f"checkpointed offset {checkpointed} is out of its range {start}-{end}" in caplog.text
    assert consumer.calls == [("assign", [(CL, 0, -2)])]  # OFFSET_BEGINNING
    assert at.checkpointed == {TP: -1}
    _, ready = reader.restore(5000, 0.0)
    assert [rt.at for rt in ready] == [at]
    assert at.task.restored == [("store", o) for o in range(start, end)]


@pytest.mark.parametrize(("start", "checkpointed", "to_restore"), [(500, 499, 500), (0, 999, 0)],
                         ids=["at-the-log-start", "at-the-end"])
def test_checkpoints_at_the_edges_of_the_range_are_kept(tmp_path, start, checkpointed, to_restore):
    consumer = LogConsumer({TP: 1000}, {TP: start})
    reader = ChangelogReader(consumer, eos=False)
    at = _revivable(tmp_path)
    write_checkpoint(at.task_dir, {TP: checkpointed})
    assert reader.add(at, [("in", 0)]) is (to_restore == 0)
    assert at.wiped == 0 and reader.total == to_restore


def test_a_changelog_recreated_shorter_while_restoring_wipes_and_restores_the_new_one(tmp_path, caplog):
    consumer = LogConsumer({TP: 3000})
    reader = ChangelogReader(consumer, eos=False)
    at = _revivable(tmp_path)
    assert reader.add(at, [("in", 0)]) is False
    reader.owner_of(("in", 0)).offsets[("in", 0)] = 42  # the input start offset the thread recorded
    reader.restore(1000, 0.0)
    assert len(at.task.restored) == 1000
    consumer.ends[TP] = 300  # deleted and re-created with 300 other records: position 1000 is out of range
    with caplog.at_level(logging.WARNING, logger="pystreams.runtime"):
        _, ready = reader.restore(1000, 0.0)
    assert at.wiped == 1 and "went back from offset 1000 to 0" in caplog.text
    for _ in range(5):
        if ready:
            break
        _, ready = reader.restore(1000, 0.0)
    assert [rt.at for rt in ready] == [at] and ready[0].offsets == {("in", 0): 42}
    assert at.task.restored == [("store", o) for o in range(300)]  # only the new changelog's records
    assert at.restored_records == 300


def test_a_changelog_recreated_empty_while_restoring_is_ready_at_once_with_an_empty_store(tmp_path):
    consumer = LogConsumer({TP: 3000})
    reader = ChangelogReader(consumer, eos=True)
    at = _revivable(tmp_path)
    reader.add(at, [("in", 0)])
    reader.owner_of(("in", 0)).offsets[("in", 0)] = 7
    reader.restore(1000, 0.0)
    consumer.ends[TP] = 0
    _, ready = reader.restore(1000, 0.0)
    assert at.wiped == 1 and [rt.at for rt in ready] == [at] and ready[0].offsets == {("in", 0): 7}
    assert at.task.restored == [] and not reader


def test_records_deleted_under_the_restore_wipe_it(tmp_path, caplog):
    consumer = LogConsumer({TP: 3000})
    reader = ChangelogReader(consumer, eos=False)
    at = _revivable(tmp_path)
    reader.add(at, [("in", 0)])
    reader.restore(1000, 0.0)
    consumer.starts[TP] = 2000  # DeleteRecords up to 2000: 1000-1999 are gone, the consumer is reset to 2000
    consumer.positions[TP] = 2000
    with caplog.at_level(logging.WARNING, logger="pystreams.runtime"):
        reader.restore(1000, 0.0)
    assert at.wiped == 1 and "starts at 2000 now, past offset 1000 still to be restored" in caplog.text
    _, ready = reader.restore(5000, 0.0)
    assert [rt.at for rt in ready] == [at]
    assert at.task.restored == [("store", o) for o in range(2000, 3000)]


def test_compaction_gaps_are_not_corruption(tmp_path):
    consumer = LogConsumer({TP: 3000})
    reader = ChangelogReader(consumer, eos=False)
    at = _revivable(tmp_path)
    reader.add(at, [("in", 0)])
    reader.restore(1000, 0.0)
    consumer.positions[TP] = 1500  # compacted away: 1000-1499, the log still starts at 0
    _, ready = reader.restore(5000, 0.0)
    assert at.wiped == 0 and [rt.at for rt in ready] == [at]
    assert at.task.restored == [("store", o) for o in [*range(1000), *range(1500, 3000)]]


def test_an_out_of_range_error_event_marks_the_task_corrupted(tmp_path):
    from confluent_kafka import KafkaError

    consumer = LogConsumer({TP: 3000})
    reader = ChangelogReader(consumer, eos=False)
    at = _revivable(tmp_path)
    reader.add(at, [("in", 0)])
    err = SimpleNamespace(code=lambda: KafkaError._AUTO_OFFSET_RESET, fatal=lambda: False)
    event = SimpleNamespace(error=lambda: err, topic=lambda: CL, partition=lambda: 0, offset=lambda: -1)
    consumer.consume = lambda num_messages, timeout: [event]  # auto.offset.reset=error: an error, no reset
    reader.restore(1000, 0.0)
    assert at.wiped == 1 and reader.corrupted == 1 and TP in reader._by_changelog


def test_a_log_start_that_moved_past_records_already_read_is_not_corruption(tmp_path):
    consumer = LogConsumer({TP: 3000})
    reader = ChangelogReader(consumer, eos=False)
    at = _revivable(tmp_path)
    reader.add(at, [("in", 0)])
    reader.restore(1000, 0.0)
    consumer.positions[TP] = 1500  # a compaction gap (1000-1499), then records up to 2999 in this batch ...
    fetch = consumer.consume

    def consume(num_messages: int, timeout: float) -> list[Any]:
        out = fetch(num_messages, timeout)
        consumer.starts[TP] = 1800  # ... while retention moved the log start past 1500, behind what was read
        return out

    consumer.consume = consume
    _, ready = reader.restore(5000, 0.0)
    assert at.wiped == 0 and [rt.at for rt in ready] == [at]
    assert at.task.restored == [("store", o) for o in [*range(1000), *range(1500, 3000)]]
