"""checkpoint_task: whether a .checkpoint is due is counted from acknowledged sends (no broker round trip per
commit: only past Kafka's 10,000-record offset delta while running, always when forced: close, revocation); the
offsets written are the broker's end offsets - 1, Kafka's last acknowledged changelog offset (a changelog re-created
under the running task, transaction markers under exactly_once_v2)."""
from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException

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
        if self.high < 0:
            raise KafkaException(KafkaError(KafkaError._ALL_BROKERS_DOWN))  # not retriable: at once
        return 0, self.high


def _task(tmp_path, restored_end: int, checkpointed: int) -> ActiveTask:
    at = ActiveTask(TaskId(0, 1), None, _Task(), str(tmp_path), None)  # type: ignore[arg-type]
    at.changelog_next[TP] = restored_end
    at.checkpointed[TP] = checkpointed
    return at


def test_the_delta_is_counted_and_the_offsets_come_from_the_broker(tmp_path):
    at, collector, consumer = _task(tmp_path, 500, 499), _Collector(), _Consumer(high=10_500)
    collector.acked[TP] = 9_000
    assert checkpoint_task(at, consumer, collector, force=False) is None  # 9,000 < threshold: not yet
    assert read_checkpoint(str(tmp_path)) == {} and consumer.calls == 0  # no broker round trip
    collector.acked[TP] = OFFSET_DELTA_THRESHOLD_FOR_CHECKPOINT - 9_000
    assert checkpoint_task(at, consumer, collector, force=False) == {TP: 499 + 10_000}
    assert read_checkpoint(str(tmp_path)) == {TP: 10_499} and consumer.calls == 1
    assert at.task.saved == [{"counts": 10_499}]  # the offset RocksDB keeps with its data, too
    collector.acked[TP] = 3
    assert checkpoint_task(at, consumer, collector, force=False) is None
    consumer.high = 10_503
    assert checkpoint_task(at, consumer, collector, force=True) == {TP: 10_502}  # close: always
    assert read_checkpoint(str(tmp_path)) == {TP: 10_502} and consumer.calls == 2


def test_a_changelog_recreated_under_the_task_is_checkpointed_at_its_new_end(tmp_path):
    """Deleted and re-created (empty) after 500 records, 3 written since: counted, the checkpoint would say 502,
    past the new topic's end (3), and the next start would find it out of range and wipe the state."""
    at, collector, consumer = _task(tmp_path, 500, 499), _Collector(), _Consumer(high=3)
    collector.acked[TP] = 3
    assert checkpoint_task(at, consumer, collector, force=True) == {TP: 2}
    assert read_checkpoint(str(tmp_path)) == {TP: 2} and at.changelog_next[TP] == 3


def test_unreadable_end_offsets_leave_the_older_checkpoint_under_at_least_once(tmp_path):
    at, collector, consumer = _task(tmp_path, 500, 499), _Collector(), _Consumer(high=-1)
    collector.acked[TP] = 20_000
    assert checkpoint_task(at, consumer, collector, force=True) is None
    assert read_checkpoint(str(tmp_path)) == {} and at.changelog_next[TP] == 20_500
    with pytest.raises(KafkaException):  # exactly_once_v2: as before, the close fails (no checkpoint: wipe)
        checkpoint_task(at, consumer, collector, force=True, eos=True)


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
