"""Sinks and input queues at the task level: partitioners, multi-partition stream time, commit requests."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams.compiler import Topology
from pystreams.processor import Processor, ProcessorContext, Record, TaskId
from pystreams.processor.internals import StreamTask
from pystreams.processor.errors import StreamsException
from pystreams.processor.internals.collector import ListRecordCollector
from pystreams.serdes import Serdes

pytestmark = pytest.mark.unit
S = Serdes.String


class FourPartitions(ListRecordCollector):
    def partitions_for(self, topic: str) -> int | None:
        return 4


class Pass(Processor[Any, Any, Any, Any]):
    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.context = context

    def process(self, record: Record[Any, Any]) -> None:
        if record.value == "commit":
            self.context.commit()
        self.context.forward(record)


def task_with(partitioner: Any, tmp: Any) -> tuple[StreamTask, ListRecordCollector]:
    t = Topology()
    t.add_source("src", "in", "in2", key_serde=S(), value_serde=S())
    t.add_processor("p", Pass, "src")
    t.add_sink("sink", "out", "p", key_serde=S(), value_serde=S(), partitioner=partitioner)
    collector = FourPartitions()
    task = StreamTask(t, TaskId(1, 2), {"application.id": "sk"}, collector, state_dir=str(tmp))
    task.initialize()
    return task, collector


def run(task: StreamTask) -> None:
    while task.process():
        pass


def test_partitioner_int_set_and_none(tmp_path: Any) -> None:
    def by_key(topic: str, key: str, value: str, n: int) -> Any:
        return {"one": 1, "multi": {3, 0}, "none": None, "drop": set()}[key]

    task, collector = task_with(by_key, tmp_path)
    task.add_records("in", 2, [(i, 10, k.encode(), b"v", ()) for i, k in enumerate(["one", "multi", "none", "drop"])])
    run(task)
    assert [(r.key, r.partition) for r in collector.records] == [(b"one", 1), (b"multi", 0), (b"multi", 3),
                                                                 (b"none", None)]


def test_partitioner_object_with_partitions_method(tmp_path: Any) -> None:
    class Last:
        def partitions(self, topic: str, key: Any, value: Any, n: int) -> set[int]:
            return {n - 1}

    task, collector = task_with(Last(), tmp_path)
    task.add_records("in", 2, [(0, 10, b"k", b"v", ())])
    run(task)
    assert collector.records[0].partition == 3


@pytest.mark.parametrize("chosen,bad", [(-1, -1), ({2, -2}, -2)])
def test_negative_partition_fails_the_record_through_the_parent_processor(tmp_path: Any, chosen: Any,
                                                                          bad: int) -> None:
    """Kafka's ProducerRecord refuses it (IllegalArgumentException); -1 is not "any partition" as for the
    producer. The exception reaches processor p's processing.exception.handler (LogAndFail: the task fails)."""
    task, collector = task_with(lambda topic, key, value, n: chosen, tmp_path)
    task.add_records("in", 2, [(0, 10, b"k", b"v", ())])
    with pytest.raises(StreamsException, match=rf"processor=p, .*ValueError: Invalid partition: {bad}\. Partition "
                                               r"number should always be non-negative or null \(record for topic out"):
        run(task)
    assert collector.records == []


def test_stream_time_is_max_over_partitions_and_smallest_head_goes_first(tmp_path: Any) -> None:
    task, collector = task_with(None, tmp_path)
    task.add_records("in", 2, [(0, 50, b"a", b"1", ()), (1, 60, b"a", b"2", ())])
    task.add_records("in2", 2, [(0, 40, b"b", b"1", ()), (1, 70, b"b", b"2", ())])
    order = []
    while task.process():
        order.append((collector.records[-1].key, task.stream_time))
    assert order == [(b"b", 40), (b"a", 50), (b"a", 60), (b"b", 70)]
    assert task.committable_offsets() == {("in", 2): 2, ("in2", 2): 2}


def test_commit_request_flag(tmp_path: Any) -> None:
    task, _ = task_with(None, tmp_path)
    task.add_records("in", 2, [(0, 1, b"k", b"commit", ())])
    run(task)
    assert task.commit_requested
    task.commit()
    assert not task.commit_requested and task.metrics.commits == 1


def test_process_batch_equals_one_by_one(tmp_path: Any) -> None:
    raw_a = [(i, ts, b"a", str(i).encode(), ()) for i, ts in enumerate([5, 1, 9, 9, 12])]
    raw_b = [(i, ts, b"b", str(i).encode(), ()) for i, ts in enumerate([3, 9, 2, 20])]
    one, c1 = task_with(None, tmp_path / "one")
    batch, c2 = task_with(None, tmp_path / "batch")
    for task in (one, batch):
        task.add_records("in", 2, raw_a)
        task.add_records("in2", 2, raw_b)
    run(one)
    assert batch.process_batch(4) == 4 and batch.process_batch(100) == 5 and batch.process_batch(10) == 0
    assert c1.records == c2.records and one.stream_time == batch.stream_time == 20
    assert one.committable_offsets() == batch.committable_offsets()
    assert batch.metrics.processed == 9
