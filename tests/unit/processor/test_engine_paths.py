"""The task engine's fast paths give the same results as the record-at-a-time path.

process_batch() drains a lone non-empty queue without heap work and DSL processors call their children
directly (direct_process); the reference is process() (one record at a time) with the direct paths turned
off, so every record goes through ProcessorRuntime.process and the general forward(). Same outputs in
the same order with the same timestamps and headers, the same error handling and dropped-record counts.
"""
from __future__ import annotations

import logging
from typing import Any

import pytest

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.processor import (FixedKeyProcessor, FixedKeyProcessorContext, FixedKeyRecord, Processor,
                                 ProcessorContext, Record, TaskId)
from pystreams.processor.internals import StreamTask
from pystreams.processor.internals.collector import ListRecordCollector
from pystreams.processor.internals.nodes import ProcessorRuntime

pytestmark = pytest.mark.unit
S = Serdes.String
CONTINUE_PROCESSING = "org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler"
CONTINUE_DESERIALIZATION = "org.apache.kafka.streams.errors.LogAndContinueExceptionHandler"


class Shift(Processor[Any, Any, Any, Any]):
    """A user processor that moves timestamps and adds a header, so downstream contexts must follow."""

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.context = context

    def process(self, record: Record[Any, Any]) -> None:
        meta = self.context.record_metadata()
        tagged = record.with_timestamp(record.timestamp + 1).with_headers([("off", str(meta.offset).encode())])
        self.context.forward(tagged)


class Upper(FixedKeyProcessor[Any, Any, Any]):
    def init(self, context: FixedKeyProcessorContext[Any, Any]) -> None:
        self.context = context

    def process(self, record: FixedKeyRecord[Any, Any]) -> None:
        self.context.forward(record.with_value(record.value.upper()))


def failing(value: str) -> str:
    if value == "boom":
        raise ValueError("boom")
    return value


def build() -> Any:
    b = StreamsBuilder()
    a = b.stream("a", Consumed(key_serde=S(), value_serde=S()))
    c = b.stream("c", Consumed(key_serde=S(), value_serde=S()))
    merged = a.merge(c)
    (merged.map_values(failing)
        .filter(lambda _k, v: not v.startswith("x"))
        .filter_not(lambda _k, v: v == "drop")
        .flat_map_values(lambda v: [v, v + "!"] if v.startswith("two") else [v])
        .peek(lambda _k, _v: None)
        .select_key(lambda k, v: f"{k}/{v}")
        .to("out1", Produced(key_serde=S(), value_serde=S())))
    shifted = merged.process(Shift).map(lambda k, v: (v, k)).map_values_with_key(lambda k, v: f"{k}:{v}")
    shifted.process_values(Upper).map_values(str.lower).to("out2", Produced(key_serde=S(), value_serde=S()))
    shifted.flat_map(lambda k, v: [(k, v), (v, k)]).to("out3", Produced(key_serde=S(), value_serde=S()))
    return b.build()


def new_task(tmp: Any, name: str, direct: bool = True, **configs: Any) -> tuple[StreamTask, ListRecordCollector]:
    collector = ListRecordCollector()
    with pytest.MonkeyPatch.context() as mp:
        if not direct:
            mp.setattr(ProcessorRuntime, "direct", lambda self: None)
        task = StreamTask(build(), TaskId(0, 0), {"application.id": "paths", **configs}, collector,
                          state_dir=str(tmp / name))
    task.initialize()
    return task, collector


def inputs() -> list[tuple[str, list[tuple[int, int, Any, Any, Any]]]]:
    values = ["v1", "x-skip", "two", "drop", "boom", "v2", "two-b", "v3"]
    a = [(i, 100 + 10 * i, f"k{i}".encode(), v.encode(), (("h", b"1"),) if i % 2 else ())
         for i, v in enumerate(values)]
    c = [(i, 105 + 20 * i, f"c{i}".encode(), v.encode(), ()) for i, v in enumerate(values[:4])]
    return [("a", a), ("c", c)]


def outputs(collector: ListRecordCollector) -> list[Any]:
    return [(r.topic, r.key, r.value, r.timestamp, tuple(r.headers or ())) for r in collector.records]


def uses_direct(task: StreamTask) -> bool:
    return any(c.__qualname__.endswith("direct_process.<locals>.run") or hasattr(c, "_pystreams_chain")
               for ctx in task.contexts.values() for c in ctx._children)


def run_reference(tmp: Any, **configs: Any) -> tuple[StreamTask, ListRecordCollector]:
    task, collector = new_task(tmp, "ref", direct=False, **configs)
    for topic, records in inputs():
        task.add_records(topic, 0, records)
    while task.process():
        pass
    return task, collector


def run_batched(tmp: Any, max_records: int, **configs: Any) -> tuple[StreamTask, ListRecordCollector]:
    task, collector = new_task(tmp, f"batch{max_records}", **configs)
    for topic, records in inputs():
        task.add_records(topic, 0, records)
    while task.process_batch(max_records):
        pass
    return task, collector


@pytest.mark.parametrize("max_records", [1, 3, 1000])
def test_batches_match_record_at_a_time(tmp_path: Any, max_records: int) -> None:
    cfg = {"processing.exception.handler": CONTINUE_PROCESSING}
    ref_task, ref = run_reference(tmp_path, **cfg)
    task, got = run_batched(tmp_path, max_records, **cfg)
    assert uses_direct(task) and not uses_direct(ref_task)
    assert outputs(got) == outputs(ref)
    assert task.metrics.as_dict() == ref_task.metrics.as_dict()
    assert task.metrics.dropped_records == 1  # "boom"
    assert task.committable_offsets() == ref_task.committable_offsets() == {("a", 0): 8, ("c", 0): 4}
    assert task.stream_time == ref_task.stream_time == 170
    # spot checks of what the paths must keep: headers, shifted timestamps, the record's own offset
    assert ("out1", b"k1/x-skip", b"x-skip", 110, (("h", b"1"),)) not in outputs(got)
    assert ("out2", b"v1", b"v1:k0", 101, (("off", b"0"),)) in outputs(got)
    assert ("out1", b"k2/two!", b"two!", 120, ()) in outputs(got)


def test_single_queue_drain_matches_and_stops_at_the_limit(tmp_path: Any) -> None:
    ref_task, ref = new_task(tmp_path, "ref", direct=False, **{"processing.exception.handler": CONTINUE_PROCESSING})
    task, got = new_task(tmp_path, "drain", **{"processing.exception.handler": CONTINUE_PROCESSING})
    a = inputs()[0][1]
    ref_task.add_records("a", 0, a)
    while ref_task.process():
        pass
    task.add_records("a", 0, a)
    assert task.process_batch(5) == 5
    assert task.committable_offsets() == {("a", 0): 5}
    assert task.buffered("a", 0) == 3 and task.has_records_queued()
    assert task.process_batch(100) == 3
    assert not task.has_records_queued()
    assert outputs(got) == outputs(ref)


def test_processing_error_in_a_direct_dsl_node_names_the_node(tmp_path: Any) -> None:
    task, got = new_task(tmp_path, "fail")
    task.add_records("a", 0, inputs()[0][1])
    with pytest.raises(Exception, match=r"processor=KSTREAM-MAPVALUES-\d+.*offset=4: ValueError: boom"):
        task.process_batch(1000)
    assert task.committable_offsets() == {("a", 0): 5}
    assert {r.value for r in got.records if r.topic == "out1"} == {b"v1", b"two", b"two!"}


def test_deserialization_errors_in_the_drain_loop(tmp_path: Any, caplog: Any) -> None:
    class Picky:
        def serialize(self, topic: str, data: Any, headers: Any = None) -> Any:
            return None if data is None else data.encode()

        def deserialize(self, topic: str, data: Any, headers: Any = None) -> Any:
            if data == b"bad":
                raise ValueError("bad bytes")
            return None if data is None else data.decode()

    b = StreamsBuilder()
    b.stream("a", Consumed(key_serde=S(), value_serde=Picky())).map_values(str.upper).to(
        "out", Produced(key_serde=S(), value_serde=S()))
    records = [(i, 10 * i, b"k", v, ()) for i, v in enumerate([b"a", b"bad", b"b", b"bad", b"c"])]
    collector = ListRecordCollector()
    task = StreamTask(b.build(), TaskId(0, 0), {"application.id": "d", "deserialization.exception.handler":
                                                CONTINUE_DESERIALIZATION}, collector, state_dir=str(tmp_path / "c"))
    task.initialize()
    task.add_records("a", 0, records)
    with caplog.at_level(logging.WARNING):
        assert task.process_batch(1000) == 3
    assert [r.value for r in collector.records] == [b"A", b"B", b"C"]
    assert task.metrics.dropped_records == 2
    assert task.committable_offsets() == {("a", 0): 5}

    collector = ListRecordCollector()
    task = StreamTask(b.build(), TaskId(0, 0), {"application.id": "d"}, collector, state_dir=str(tmp_path / "f"))
    task.initialize()
    task.add_records("a", 0, records)
    with pytest.raises(Exception, match="Deserialization exception handler is set to fail"):
        task.process_batch(1000)
    # as Kafka's RecordQueue: the next head is deserialized before the current record is processed
    assert collector.records == []
    assert task.committable_offsets() == {}


def test_negative_timestamps_skipped_by_the_extractor(tmp_path: Any) -> None:
    b = StreamsBuilder()
    b.stream("a", Consumed(key_serde=S(), value_serde=S())).map_values(str.upper).to(
        "out", Produced(key_serde=S(), value_serde=S()))
    collector = ListRecordCollector()
    task = StreamTask(b.build(), TaskId(0, 0), {
        "application.id": "ts",
        "default.timestamp.extractor": "org.apache.kafka.streams.processor.LogAndSkipOnInvalidTimestamp"},
        collector, state_dir=str(tmp_path))
    task.initialize()
    task.add_records("a", 0, [(0, 5, b"k", b"a", ()), (1, -1, b"k", b"b", ()), (2, 7, b"k", b"c", ())])
    assert task.process_batch(1000) == 2
    assert [(r.value, r.timestamp) for r in collector.records] == [(b"A", 5), (b"C", 7)]
    assert task.metrics.dropped_records == 1


def test_a_long_map_values_chain_fits_the_recursion_limit(tmp_path: Any) -> None:
    # one Python frame per direct DSL node (it was three: runtime, processor, forward), so a 600-node chain
    # that used to hit Python's default recursion limit (1,000) runs
    b = StreamsBuilder()
    stream = b.stream("a", Consumed(key_serde=S(), value_serde=Serdes.Long()))
    for _ in range(600):
        stream = stream.map_values(lambda v: v + 1)
    stream.to("out", Produced(key_serde=S(), value_serde=Serdes.Long()))
    collector = ListRecordCollector()
    task = StreamTask(b.build(), TaskId(0, 0), {"application.id": "deep"}, collector, state_dir=str(tmp_path))
    task.initialize()
    task.add_records("a", 0, [(0, 1, b"k", (5).to_bytes(8, "big"), ())])
    assert task.process_batch(10) == 1
    assert [int.from_bytes(r.value, "big") for r in collector.records] == [605]


class Recording:
    """A processing.exception.handler that notes (node, record, error) and continues."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def handle(self, context: Any, record: Any, exception: Exception) -> Any:
        from pystreams.processor.handlers import ProcessingHandlerResponse

        self.seen.append((context.processor_node_id, context.offset, tuple(record), type(record).__name__,
                          str(exception)))
        return ProcessingHandlerResponse.CONTINUE


def boom_on(bad: str) -> Any:
    def fn(*args: Any) -> Any:
        if bad in map(str, args):
            raise ValueError(f"boom on {bad}")
        return args[-1]
    return fn


def fused_topology() -> Any:
    b = StreamsBuilder()
    (b.stream("a", Consumed(key_serde=S(), value_serde=S()))
        .map_values(lambda v: v + "1")
        .filter(lambda k, v: not boom_on("f21")(k, v) is None)
        .map_values_with_key(lambda k, v: boom_on("m31")(k, v) + "2")
        .map(lambda k, v: (k, v) if v != "bad12" else "not a pair")
        .select_key(lambda k, v: boom_on("s412")(k, v) + "-" + k)
        .peek(boom_on("p512"))
        .filter_not(lambda k, v: v == "drop12")
        .to(lambda k, v, rc: "out" if v != "x12" else {}["no topic"], Produced(key_serde=S(), value_serde=S())))
    return b.build()


@pytest.mark.parametrize("direct", [True, False])
def test_a_fused_chain_keeps_each_nodes_error_handling(tmp_path: Any, direct: bool) -> None:
    handler = Recording()
    values = ["a", "f2", "m3", "s4", "p5", "drop", "x", "b"]
    with pytest.MonkeyPatch.context() as mp:
        if not direct:
            mp.setattr(ProcessorRuntime, "direct", lambda self: None)
        collector = ListRecordCollector()
        task = StreamTask(fused_topology(), TaskId(0, 0), {"application.id": "fuse",
                          "processing.exception.handler": handler}, collector, state_dir=str(tmp_path / str(direct)))
        task.initialize()
    chained = [c for ctx in task.contexts.values() for c in ctx._children if hasattr(c, "_pystreams_chain")]
    assert bool(chained) is direct
    if direct:  # the source's only child runs all seven steps
        assert len(task.sources["KSTREAM-SOURCE-0000000000"].children()[0]._pystreams_chain[0]) == 7
    task.add_records("a", 0, [(i, 10 + i, f"k{i}".encode(), v.encode(), (("h", b"1"),) if i % 2 else ())
                              for i, v in enumerate(values)])
    task.process_batch(100)
    assert [(r.key, r.value, r.timestamp, r.headers) for r in collector.records] == [
        (b"a12-k0", b"a12", 10, ()), (b"b12-k7", b"b12", 17, (("h", b"1"),))]
    by_offset = {s[1]: s for s in handler.seen}
    assert by_offset[1][:4] == ("KSTREAM-FILTER-0000000002", 1, ("k1", "f21", 11, (("h", b"1"),)), "Record")
    assert by_offset[2][:4] == ("KSTREAM-MAPVALUES-0000000003", 2, ("k2", "m31", 12, ()), "Record")
    assert by_offset[3][:4] == ("KSTREAM-KEY-SELECT-0000000005", 3, ("k3", "s412", 13, (("h", b"1"),)),
                                "Record")
    assert by_offset[4][:4] == ("KSTREAM-PEEK-0000000006", 4, ("p512-k4", "p512", 14, ()), "Record")
    # the topic extractor's failure (in the sink) reaches the last node before it, as with nested calls
    assert by_offset[6][0] == "KSTREAM-FILTER-0000000007" and by_offset[6][2] == ("x12-k6", "x12", 16, ())
    assert task.metrics.dropped_records == 5


def test_a_fused_map_refuses_a_non_pair(tmp_path: Any) -> None:
    collector = ListRecordCollector()
    task = StreamTask(fused_topology(), TaskId(0, 0), {"application.id": "fuse"}, collector,
                      state_dir=str(tmp_path))
    task.initialize()
    task.add_records("a", 0, [(0, 1, b"k", b"bad", ())])
    with pytest.raises(Exception, match=r"KStream.map: the mapper must return \(key, value\).*'not a pair'"):
        task.process_batch(10)
