"""ChangelogReader (restore between polls) on a fake restore consumer: bounded batches, a task is ready only at
the end offset read when it was registered, revoked restoring tasks leave the consumer and checkpoint what they
restored (at_least_once only), progress reporting."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError

from pystreams.processor.task_id import TaskId
from pystreams.runtime.checkpoint import read_checkpoint, write_checkpoint
from pystreams.runtime.restore import ChangelogReader

pytestmark = pytest.mark.unit

CL = "app-store-changelog"


class FakeMessage:
    def __init__(self, topic: str, partition: int, offset: int, eof: bool = False) -> None:
        self._t, self._p, self._o, self._eof = topic, partition, offset, eof

    def error(self) -> Any:
        return SimpleNamespace(code=lambda: KafkaError._PARTITION_EOF) if self._eof else None

    def topic(self) -> str:
        return self._t

    def partition(self) -> int:
        return self._p

    def offset(self) -> int:
        return self._o

    def key(self) -> bytes:
        return f"k{self._o}".encode()

    def value(self) -> bytes:
        return b"v"

    def timestamp(self) -> tuple[int, int]:
        return (1, 1000 + self._o)


class FakeConsumer:
    """A log per partition; consume() hands out records of the assigned partitions, then one EOF each."""

    def __init__(self, ends: dict[tuple[str, int], int]) -> None:
        self.ends = ends
        self.positions: dict[tuple[str, int], int] = {}
        self.eof_sent: set[tuple[str, int]] = set()
        self.calls: list[tuple[str, Any]] = []

    def get_watermark_offsets(self, tp: Any, timeout: float, cached: bool) -> tuple[int, int]:
        return 0, self.ends[(tp.topic, tp.partition)]

    def incremental_assign(self, tps: list[Any]) -> None:
        self.calls.append(("assign", [(tp.topic, tp.partition, tp.offset) for tp in tps]))
        for tp in tps:
            self.positions[(tp.topic, tp.partition)] = max(tp.offset, 0)

    def incremental_unassign(self, tps: list[Any]) -> None:
        self.calls.append(("unassign", [(tp.topic, tp.partition) for tp in tps]))
        for tp in tps:
            del self.positions[(tp.topic, tp.partition)]

    def consume(self, num_messages: int, timeout: float) -> list[FakeMessage]:
        out: list[FakeMessage] = []
        for tp, pos in sorted(self.positions.items()):
            end = self.ends[tp]
            while pos < end and len(out) < num_messages:
                out.append(FakeMessage(tp[0], tp[1], pos))
                pos += 1
            self.positions[tp] = pos
            if pos >= end and tp not in self.eof_sent and len(out) < num_messages:
                self.eof_sent.add(tp)
                out.append(FakeMessage(tp[0], tp[1], end, eof=True))
        return out

    def position(self, tps: list[Any]) -> list[Any]:
        return [SimpleNamespace(topic=tp.topic, partition=tp.partition, offset=self.positions[(tp.topic, tp.partition)])
                for tp in tps]


class FakeStreamTask:
    def __init__(self) -> None:
        self.restored: list[tuple[str, int]] = []
        self.stored_offsets: dict[str, int] = {}

    def checkpointed_offsets(self) -> dict[str, int]:
        return {}

    def changelog_topics(self) -> dict[str, str]:
        return {"store": CL}

    def restore(self, store: str, records: list[tuple[Any, ...]]) -> None:
        self.restored.extend((store, r[3]) for r in records)

    def checkpoint(self, offsets: dict[str, int]) -> None:
        self.stored_offsets.update(offsets)


def _task(tmp_path: Any, partition: int) -> Any:
    task_dir = tmp_path / f"0_{partition}"
    task_dir.mkdir()
    tp = (CL, partition)
    return SimpleNamespace(id=TaskId(0, partition), task=FakeStreamTask(), task_dir=str(task_dir),
                           persistent_changelogs={tp: "store"}, changelog_next={}, checkpointed={}, collector=None,
                           restored_records=0, changelog_partitions=lambda: {tp: "store"})


def test_restore_advances_a_bounded_batch_per_call_and_a_task_runs_only_at_the_end_offset(tmp_path):
    consumer = FakeConsumer({(CL, 0): 2500})
    progress: list[tuple[int, int]] = []
    reader = ChangelogReader(consumer, eos=False, progress=lambda d, t: progress.append((d, t)))
    at = _task(tmp_path, 0)
    assert reader.add(at, [("in", 0)]) is False
    assert consumer.calls == [("assign", [(CL, 0, -2)])]  # no checkpoint: from the beginning
    assert at.changelog_next == {(CL, 0): 2500} and at.checkpointed == {(CL, 0): -1}
    for expected in (1000, 2000):
        restored, ready = reader.restore(1000, 0.0)
        assert restored == 1000 and ready == [] and TaskId(0, 0) in reader
        assert len(at.task.restored) == expected
    restored, ready = reader.restore(1000, 0.0)
    assert restored == 500 and [rt.at for rt in ready] == [at] and not reader
    assert at.task.restored == [("store", o) for o in range(2500)]
    assert at.restored_records == 2500
    assert progress == [(1000, 2500), (2000, 2500), (2500, 2500)]
    assert consumer.calls[-1] == ("unassign", [(CL, 0)])


def test_a_task_at_its_checkpoint_has_nothing_to_restore(tmp_path):
    consumer = FakeConsumer({(CL, 1): 40})
    reader = ChangelogReader(consumer, eos=False)
    at = _task(tmp_path, 1)
    write_checkpoint(at.task_dir, {(CL, 1): 39})
    assert reader.add(at, [("in", 1)]) is True
    assert not reader and consumer.calls == []


def test_restore_resumes_after_the_checkpoint(tmp_path):
    consumer = FakeConsumer({(CL, 1): 40})
    reader = ChangelogReader(consumer, eos=False)
    at = _task(tmp_path, 1)
    write_checkpoint(at.task_dir, {(CL, 1): 29})
    assert reader.add(at, [("in", 1)]) is False
    assert consumer.calls == [("assign", [(CL, 1, 30)])]
    assert reader.total == 10


@pytest.mark.parametrize("eos", [False, True])
def test_a_revoked_restoring_task_leaves_the_consumer_and_checkpoints_what_it_restored_unless_eos(tmp_path, eos):
    consumer = FakeConsumer({(CL, 0): 3000, (CL, 1): 3000})
    reader = ChangelogReader(consumer, eos=eos)
    a0, a1 = _task(tmp_path, 0), _task(tmp_path, 1)
    reader.add(a0, [("in", 0)])
    reader.add(a1, [("in", 1)])
    reader.restore(1000, 0.0)  # the fake hands out partition 0 first
    assert reader.owner_of(("in", 0)).at is a0 and reader.owner_of(("in", 2)) is None
    rt = reader.remove(TaskId(0, 0))
    assert consumer.calls[-1] == ("unassign", [(CL, 0)])
    reader.checkpoint(rt)
    if eos:
        assert read_checkpoint(a0.task_dir) == {} and a0.task.stored_offsets == {}
    else:
        assert read_checkpoint(a0.task_dir) == {(CL, 0): 999} and a0.task.stored_offsets == {"store": 999}
    while reader:  # the other task still restores to its end
        reader.restore(1000, 0.0)
    assert len(a1.task.restored) == 3000 and len(a0.task.restored) == 1000


def test_records_written_after_registration_are_not_waited_for(tmp_path):
    consumer = FakeConsumer({(CL, 0): 100})
    reader = ChangelogReader(consumer, eos=False)
    at = _task(tmp_path, 0)
    reader.add(at, [("in", 0)])
    consumer.ends[(CL, 0)] = 150  # written after the end offset was read (e.g. a standby's leftovers)
    _, ready = reader.restore(1000, 0.0)
    assert [rt.at for rt in ready] == [at]
    assert at.task.restored == [("store", o) for o in range(100)]
