"""checkpoint_task: changelog end offsets from acknowledged sends (no broker round trip per commit), a
.checkpoint written only past Kafka's 10,000-record offset delta while running, always when forced (close,
revocation), and from the broker's end offsets under exactly_once_v2 (transaction markers take offsets)."""
from __future__ import annotations

import pytest

from pystreams.processor.task_id import TaskId
from pystreams.runtime.checkpoint import read_checkpoint
from pystreams.runtime.tasks import OFFSET_DELTA_THRESHOLD_FOR_CHECKPOINT, ActiveTask, checkpoint_task

pytestmark = pytest.mark.unit

TP = ("app-counts-changelog", 1)


class _Store:
    persistent = True


class _Task:
    def __init__(self) -> None:
        self.stores = {"counts": _Store()}
        self.saved: list[dict[str, int]] = []

    def changelog_topics(self) -> dict[str, str]:
        return {"counts": TP[0]}

    def checkpoint(self, offsets: dict[str, int]) -> None:
        self.saved.append(offsets)


class _Collector:
    """Stands in for KafkaRecordCollector's acknowledged-send counts."""

    def __init__(self) -> None:
        self.acked: dict[tuple[str, int], int] = {}

    def take_acked(self, topic: str, partition: int) -> int:
        return self.acked.pop((topic, partition), 0)


class _Consumer:
    def __init__(self, high: int) -> None:
        self.high, self.calls = high, 0

    def get_watermark_offsets(self, tp, timeout: float, cached: bool) -> tuple[int, int]:
        self.calls += 1
        return 0, self.high


def _task(tmp_path, restored_end: int, checkpointed: int) -> ActiveTask:
    at = ActiveTask(TaskId(0, 1), None, _Task(), str(tmp_path), None)  # type: ignore[arg-type]
    at.changelog_next[TP] = restored_end
    at.checkpointed[TP] = checkpointed
    return at


def test_offsets_come_from_acknowledged_sends_and_wait_for_the_delta(tmp_path):
    at, collector, consumer = _task(tmp_path, 500, 499), _Collector(), _Consumer(high=10**9)
    collector.acked[TP] = 9_000
    assert checkpoint_task(at, consumer, collector, force=False) is None  # 9,000 < threshold: not yet
    assert read_checkpoint(str(tmp_path)) == {}
    collector.acked[TP] = OFFSET_DELTA_THRESHOLD_FOR_CHECKPOINT - 9_000
    assert checkpoint_task(at, consumer, collector, force=False) == {TP: 499 + 10_000}
    assert read_checkpoint(str(tmp_path)) == {TP: 10_499}
    assert at.task.saved == [{"counts": 10_499}]  # the offset RocksDB keeps with its data, too
    collector.acked[TP] = 3
    assert checkpoint_task(at, consumer, collector, force=False) is None
    assert checkpoint_task(at, consumer, collector, force=True) == {TP: 10_502}  # close: always, counted
    assert read_checkpoint(str(tmp_path)) == {TP: 10_502}
    assert consumer.calls == 0  # no broker round trip


def test_exactly_once_takes_the_end_offset_from_the_broker(tmp_path):
    at, collector, consumer = _task(tmp_path, 500, -1), _Collector(), _Consumer(high=512)
    collector.acked[TP] = 10  # 10 records + 2 transaction markers
    assert checkpoint_task(at, consumer, collector, force=True, eos=True) == {TP: 511}
    assert consumer.calls == 1


def test_an_unknown_end_offset_is_asked_for(tmp_path):
    at = ActiveTask(TaskId(0, 1), None, _Task(), str(tmp_path), None)  # type: ignore[arg-type]
    consumer = _Consumer(high=42)
    assert checkpoint_task(at, consumer, _Collector(), force=True) == {TP: 41}
    assert consumer.calls == 1 and at.changelog_next[TP] == 42
