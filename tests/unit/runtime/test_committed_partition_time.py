"""A task starts its partition times (and stream time) from the committed offsets' metadata (Kafka's
StreamTask.initializeTaskTimeAndProcessorMetadata): create_task reads it through the creating stream thread's group
member (our OffsetFetch, not confluent-kafka's committed(): librdkafka#4649) and seeds the StreamTask; the seeds
survive a wipe-and-revive, and a record older than the committed partition time does not move task time back."""
from __future__ import annotations

import re
import threading
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.processor import Processor, ProcessorContext, Record
from pystreams.processor.internals.collector import ListRecordCollector
from pystreams.processor.task_id import TaskId
from pystreams.runtime.offset_metadata import encode
from pystreams.runtime.tasks import (
    ActiveTask,
    close_task,
    create_task,
    metadata_of,
    read_committed_metadata,
)
from pystreams.runtime.topics import SubtopologyPlan

pytestmark = pytest.mark.unit

JAVA_WRITTEN = "AgAAAaIgzNrQ"  # Kafka Streams 4.1.1's metadata for partition time 0x000001A220CCDAD0


class _StreamTimeProbe(Processor[str, str, str, str]):
    """Forwards each record with "<record timestamp>/<task stream time>" as its value."""

    def init(self, context: ProcessorContext[str, str]) -> None:
        self.context = context

    def process(self, record: Record[str, str]) -> None:
        self.context.forward(record.with_value(f"{record.timestamp}/{self.context.current_stream_time_ms()}"))


def _probe_app() -> tuple[Any, SubtopologyPlan]:
    builder = StreamsBuilder()
    (builder.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .process(_StreamTimeProbe).to("out", Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    topology = builder.build()
    sub = topology.subtopologies()[0]
    return topology, SubtopologyPlan(sub.id, tuple(sub.node_names), ["in"], [], 2)


class _Group:
    """The StreamsMember surface create_task reads: committed_with_metadata (one call per task)."""

    def __init__(self, committed: dict[tuple[str, int], tuple[int, str]]) -> None:
        self.committed = committed
        self.calls: list[list[tuple[str, int]]] = []

    def committed_with_metadata(self, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], tuple[int, str]]:
        self.calls.append(list(partitions))
        return {tp: self.committed.get(tp, (-1, "")) for tp in partitions}


class _FakeStreamThread(threading.Thread):
    """Runs `fn` on a thread carrying a `_group`, as create_task runs on a StreamThread."""

    def __init__(self, group: Any, fn: Any, plan: Any = None) -> None:
        super().__init__(name="app-StreamThread-1", daemon=True)
        self._group = group
        if plan is not None:
            self.plan = plan
        self._fn = fn
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._fn()
        except BaseException as e:  # noqa: BLE001 - re-raised by the test
            self.error = e


def _create(tmp_path: Any, partition: int = 0, patterns: tuple[str, ...] = (), **kwargs: Any
            ) -> tuple[ActiveTask, ListRecordCollector]:
    topology, sub = _probe_app()
    sub.source_patterns = [re.compile(p) for p in patterns]
    collector = ListRecordCollector()
    at = create_task(topology, TaskId(0, partition), sub, {"application.id": "app"}, collector, str(tmp_path),
                     "app", eos=False, cache=None, **kwargs)
    return at, collector


def _on_stream_thread(group: Any, fn: Any, plan: Any = None) -> Any:
    thread = _FakeStreamThread(group, fn, plan)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    if thread.error is not None:
        raise thread.error
    return thread.result


def _process(at: ActiveTask, collector: ListRecordCollector, records: list[tuple[int, int]]) -> list[str]:
    """Feed (offset, timestamp) records to in-<partition> and process them; the probe's values."""
    at.task.add_records("in", at.id.partition, [(o, ts, b"k", b"v", ()) for o, ts in records])
    while at.task.process():
        pass
    return [r.value.decode() for r in collector.records]


def test_task_created_on_a_stream_thread_reads_its_committed_metadata(tmp_path: Any) -> None:
    group = _Group({("in", 1): (40, encode(5_000))})
    at, collector = _on_stream_thread(group, lambda: _create(tmp_path, partition=1))
    try:
        assert group.calls == [[("in", 1)]]  # one OffsetFetch, for this task's input partition only
        assert at.committed_metadata == {("in", 1): encode(5_000)}
        assert at.task.partition_time("in", 1) == 5_000 and at.task.stream_time == 5_000
        # a record older than the committed partition time: task time stays where the last run left it
        assert _process(at, collector, [(40, 4_000), (41, 6_000)]) == ["4000/5000", "6000/6000"]
        assert at.task.partition_time("in", 1) == 6_000
    finally:
        close_task(at, clean=True, eos=False)


def test_java_written_metadata_seeds_the_partition_time(tmp_path: Any) -> None:
    group = _Group({("in", 0): (3, JAVA_WRITTEN)})
    at, collector = _on_stream_thread(group, lambda: _create(tmp_path))
    try:
        assert at.task.partition_time("in", 0) == 0x000001A220CCDAD0
        assert _process(at, collector, [(3, 1_000)]) == [f"1000/{0x000001A220CCDAD0}"]
    finally:
        close_task(at, clean=True, eos=False)


def test_nothing_committed_or_no_metadata_leaves_time_unknown(tmp_path: Any) -> None:
    # no offset; an offset committed without metadata (a plain consumer, or pystreams before it sent metadata)
    group = _Group({("in", 0): (12, "")})
    at, collector = _on_stream_thread(group, lambda: _create(tmp_path))
    try:
        assert group.calls == [[("in", 0)]] and at.committed_metadata == {}
        assert at.task.partition_time("in", 0) == -1 and at.task.stream_time == -1
        assert _process(at, collector, [(12, 700)]) == ["700/700"]
    finally:
        close_task(at, clean=True, eos=False)


def test_input_partitions_follow_the_plans_partition_counts_and_patterns(tmp_path: Any) -> None:
    group = _Group({("in-x", 1): (2, encode(77))})
    plan = SimpleNamespace(topic_partitions={"in": 2, "in-x": 3, "in-y": 1, "other": 4})
    at, _ = _on_stream_thread(group, lambda: _create(tmp_path, partition=1, patterns=("in-.*",)), plan)
    try:
        # in-y has no partition 1 (Kafka's partition grouper gives this task none of it); "other" is not a source
        assert group.calls == [[("in", 1), ("in-x", 1)]] and at.committed_metadata == {("in-x", 1): encode(77)}
    finally:
        close_task(at, clean=True, eos=False)


def test_explicit_metadata_is_used_without_a_fetch(tmp_path: Any) -> None:
    group = _Group({("in", 0): (1, encode(1))})
    at, _ = _on_stream_thread(group, lambda: _create(tmp_path, metadata={("in", 0): encode(9_000)}))
    try:
        assert group.calls == [] and at.task.partition_time("in", 0) == 9_000
    finally:
        close_task(at, clean=True, eos=False)


def test_off_a_stream_thread_nothing_is_read(tmp_path: Any) -> None:
    at, _ = _create(tmp_path)  # the test's main thread has no group member
    try:
        assert at.committed_metadata == {} and at.task.partition_time("in", 0) == -1
    finally:
        close_task(at, clean=True, eos=False)


def test_a_failed_fetch_releases_the_task_directory_lock(tmp_path: Any) -> None:
    class Unreachable(_Group):
        def committed_with_metadata(self, partitions: list[tuple[str, int]]) -> Any:
            raise ConnectionError("coordinator unreachable")

    with pytest.raises(ConnectionError):
        _on_stream_thread(Unreachable({}), lambda: _create(tmp_path))
    at, _ = _create(tmp_path)  # the lock was released: the task can be created again at once
    close_task(at, clean=True, eos=False)


def test_wipe_and_revive_keeps_the_seeded_partition_times(tmp_path: Any) -> None:
    at, _ = _create(tmp_path, metadata={("in", 0): encode(8_000)})
    try:
        old = at.task
        at.wipe_and_revive()
        assert at.task is not old and at.task.partition_time("in", 0) == 8_000 and at.task.stream_time == 8_000
    finally:
        close_task(at, clean=True, eos=False)


def test_read_committed_metadata_keeps_only_committed_partitions_with_metadata() -> None:
    group = _Group({("a", 0): (5, encode(1)), ("a", 1): (-1, ""), ("b", 0): (7, ""), ("b", 1): (7, "\x00"),
                    ("c", 0): (2, encode(3) + "\x00")})
    # what confluent-kafka-python sends through librdkafka (exactly_once_v2) ends with the C string's NUL
    assert read_committed_metadata(group, [("b", 0), ("a", 1), ("a", 0), ("a", 0), ("b", 1), ("c", 0)]) == {
        ("a", 0): encode(1), ("c", 0): encode(3)}
    assert group.calls == [[("a", 0), ("a", 1), ("b", 0), ("b", 1), ("c", 0)]]
    assert read_committed_metadata(group, []) == {} and len(group.calls) == 1


def test_metadata_of_an_offset_fetch_answer() -> None:
    fetched = {("a", 0): (5, encode(1) + "\x00"), ("a", 1): (-1, ""), ("b", 0): (3, "")}
    assert metadata_of(fetched) == {("a", 0): encode(1)}
