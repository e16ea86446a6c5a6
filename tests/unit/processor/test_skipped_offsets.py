"""Records that are skipped (a deserialization error under LogAndContinue, a negative extracted timestamp) count as
consumed: their offsets are committed even when no valid record follows them, as Kafka does (a CorruptedRecord's
offset goes into consumedOffsets; an empty queue commits the consumer's position). Each skipped record is logged
once and counted as dropped."""
from __future__ import annotations

import logging
from typing import Any

import pytest

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.processor import TaskId
from pystreams.processor.internals import StreamTask
from pystreams.processor.internals.collector import ListRecordCollector
from pystreams.serdes.handlers import DeserializationFailedError

pytestmark = pytest.mark.unit
CONTINUE = "org.apache.kafka.streams.errors.LogAndContinueExceptionHandler"
SKIP_TS = "org.apache.kafka.streams.processor.LogAndSkipOnInvalidTimestamp"


def _task(tmp: Any, name: str, sources: tuple[str, ...] = ("in",), **configs: Any
          ) -> tuple[StreamTask, ListRecordCollector]:
    b = StreamsBuilder()
    stream = b.stream(list(sources), Consumed(key_serde=Serdes.String(), value_serde=Serdes.Integer()))
    stream.map_values(lambda v: v + 1).to("out", Produced(key_serde=Serdes.String(), value_serde=Serdes.Integer()))
    collector = ListRecordCollector()
    task = StreamTask(b.build(), TaskId(0, 0), {"application.id": "skips", **configs}, collector,
                      state_dir=str(tmp / name))
    task.initialize()
    return task, collector


def _good(offset: int, value: int, ts: int = 100) -> tuple[int, int, bytes, bytes, Any]:
    return offset, ts, b"k", value.to_bytes(4, "big", signed=True), ()


def _bad(offset: int) -> tuple[int, int, bytes, bytes, Any]:
    return offset, 100, b"k", b"not-an-int", ()  # Integer serde needs 4 bytes


def _run(task: StreamTask, one_at_a_time: bool) -> None:
    if one_at_a_time:
        while task.process():
            pass
    else:
        while task.process_batch(1000):
            pass


@pytest.mark.parametrize("one_at_a_time", [False, True])
def test_trailing_bad_records_are_committed(tmp_path: Any, one_at_a_time: bool) -> None:
    task, collector = _task(tmp_path, "t", **{"deserialization.exception.handler": CONTINUE})
    task.add_records("in", 0, [_good(0, 1), _good(1, 2), _bad(2), _bad(3)])
    _run(task, one_at_a_time)
    assert [r.value for r in collector.records] == [b"\x00\x00\x00\x02", b"\x00\x00\x00\x03"]
    assert task.committable_offsets() == {("in", 0): 4}
    assert task.metrics.dropped_records == 2


def test_bad_records_fetched_after_the_last_valid_one_are_committed(tmp_path: Any) -> None:
    task, _ = _task(tmp_path, "t", **{"deserialization.exception.handler": CONTINUE})
    task.add_records("in", 0, [_good(0, 1)])
    _run(task, False)
    assert task.committable_offsets() == {("in", 0): 1}
    task.add_records("in", 0, [_bad(1), _bad(2), _bad(3)])  # a later fetch of only bad records
    _run(task, False)
    assert task.committable_offsets() == {("in", 0): 4}


def test_a_partition_with_only_bad_records_is_committed(tmp_path: Any) -> None:
    task, collector = _task(tmp_path, "t", **{"deserialization.exception.handler": CONTINUE})
    task.add_records("in", 0, [_bad(5), _bad(6)])
    _run(task, False)
    assert collector.records == [] and task.committable_offsets() == {("in", 0): 7}


def test_bad_records_before_a_valid_one_commit_after_the_valid_one(tmp_path: Any) -> None:
    task, collector = _task(tmp_path, "t", **{"deserialization.exception.handler": CONTINUE})
    task.add_records("in", 0, [_bad(0), _good(1, 1), _bad(2), _good(3, 5)])
    assert task.committable_offsets() == {}  # nothing processed yet: the bad head record waits for the valid one
    _run(task, False)
    assert len(collector.records) == 2 and task.committable_offsets() == {("in", 0): 4}


@pytest.mark.parametrize("one_at_a_time", [False, True])
def test_trailing_negative_timestamps_are_committed(tmp_path: Any, one_at_a_time: bool) -> None:
    task, collector = _task(tmp_path, "t", **{"default.timestamp.extractor": SKIP_TS})
    task.add_records("in", 0, [_good(0, 1), _good(1, 2, ts=-1), _good(2, 3, ts=-5)])
    _run(task, one_at_a_time)
    assert len(collector.records) == 1
    assert task.committable_offsets() == {("in", 0): 3}
    assert task.metrics.dropped_records == 2


def test_a_failing_handler_commits_nothing_past_the_bad_record(tmp_path: Any) -> None:
    task, _ = _task(tmp_path, "t")  # LogAndFail
    task.add_records("in", 0, [_good(0, 1), _good(1, 2)])
    _run(task, False)
    with pytest.raises(DeserializationFailedError, match="offset 2"):
        task.add_records("in", 0, [_bad(2)])
    assert task.committable_offsets() == {("in", 0): 2}


def test_queue_committable_offset_after_a_pop_with_trailing_skips(tmp_path: Any) -> None:
    """Two input partitions take the pop() path: the pop deserializes ahead and skips the trailing bad records
    before the popped record is processed; the queue's committable_offset() covers them once it is processed."""
    task, _ = _task(tmp_path, "t", ("in", "in2"), **{"deserialization.exception.handler": CONTINUE})
    task.add_records("in", 0, [_good(0, 1, ts=10), _bad(1), _bad(2)])
    task.add_records("in2", 0, [_good(0, 1, ts=20), _good(1, 1, ts=30)])
    _run(task, True)
    queue = task._queues[("in", 0)]
    assert queue.next_offset == 1 and queue.committable_offset() == 3
    assert task._queues[("in2", 0)].committable_offset() == 2


def test_each_skipped_record_is_logged_once(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    class Quiet:  # a user handler that logs nothing itself
        def handle(self, context: Any, record: Any, exception: Exception) -> Any:
            from pystreams.serdes.handlers import DeserializationHandlerResponse
            return DeserializationHandlerResponse.CONTINUE

    for name, handler in (("builtin", CONTINUE), ("user", Quiet())):
        task, _ = _task(tmp_path, name, **{"deserialization.exception.handler": handler,
                                           "default.timestamp.extractor": SKIP_TS})
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            task.add_records("in", 0, [_good(0, 1), _bad(7), _good(8, 1, ts=-1)])
            _run(task, False)
        about_7 = [r for r in caplog.records if "7" in r.getMessage().split("offset")[-1][:6]]
        about_8 = [r for r in caplog.records if "8" in r.getMessage().split("@")[-1][:3]
                   or "offset=[8]" in r.getMessage()]
        assert len(about_7) == 1, [r.getMessage() for r in caplog.records]
        assert len(about_8) == 1, [r.getMessage() for r in caplog.records]
        assert sum(r.exc_info is not None for r in caplog.records) == (1 if name == "builtin" else 0)
        assert task.committable_offsets() == {("in", 0): 9}
