"""The stream thread's hand-over: consumed Messages go to their tasks' queues as they are (no tuple per record)
and give exactly what the same records added as (offset, timestamp, key, value, headers) tuples give: outputs,
timestamps, headers, committable offsets, error handling; error messages in a batch are skipped or raised as
before; records of partitions the thread no longer owns are dropped. Sinks on a KafkaRecordCollector call
producer.produce directly and fall back to send() for whatever it raises."""
from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, Message

from pystreams.runtime.collector import KafkaRecordCollector
from pystreams.runtime.processing import hand_over
from tests.unit.processor.test_engine_paths import (
    CONTINUE_PROCESSING,
    inputs,
    new_task,
    outputs,
)

pytestmark = pytest.mark.unit


class _Active:
    def __init__(self, task: Any) -> None:
        self.task = task


def _message(topic: str, partition: int, r: tuple[int, int, Any, Any, Any]) -> Message:
    offset, ts, key, value, headers = r
    return Message(topic=topic, partition=partition, offset=offset, key=key, value=value,
                   headers=list(headers) or None, error=None, timestamp=(1, ts))


def _eof(topic: str, partition: int) -> Message:
    return Message(topic=topic, partition=partition, offset=99, error=KafkaError(KafkaError._PARTITION_EOF))


def _interleaved() -> list[Message]:
    """Both input topics' records in runs of 1-3, with EOF events and a revoked partition's records among them."""
    (ta, a), (tc, c) = inputs()
    out: list[Message] = [_eof(ta, 0)]
    ia = ic = 0
    step = 1
    while ia < len(a) or ic < len(c):
        out += [_message(ta, 0, r) for r in a[ia:ia + step]]
        out.append(_message(ta, 1, (0, 1, b"gone", b"revoked", ())))
        out += [_message(tc, 0, r) for r in c[ic:ic + step]]
        out.append(_eof(tc, 0))
        ia, ic, step = ia + step, ic + step, step % 3 + 1
    return out


def _tuples_reference(tmp: Any) -> tuple[Any, Any]:
    task, collector = new_task(tmp, "tuples", **{"processing.exception.handler": CONTINUE_PROCESSING})
    for topic, records in inputs():
        task.add_records(topic, 0, records)
    while task.process_batch(1000):
        pass
    return task, collector


@pytest.mark.parametrize("batch", [1, 4, 1000])
def test_messages_give_what_tuples_give(tmp_path: Any, batch: int) -> None:
    ref_task, ref = _tuples_reference(tmp_path)
    task, collector = new_task(tmp_path, f"msgs{batch}", **{"processing.exception.handler": CONTINUE_PROCESSING})
    owned = {("a", 0): _Active(task), ("c", 0): _Active(task)}
    messages = _interleaved()
    for i in range(0, len(messages), batch):
        hand_over(messages[i:i + batch], owned)
    while task.process_batch(1000):
        pass
    assert outputs(collector) == outputs(ref) and len(collector.records) > 5
    assert task.committable_offsets() == ref_task.committable_offsets() == {("a", 0): 8, ("c", 0): 4}
    assert task.metrics.as_dict() == ref_task.metrics.as_dict()
    assert task.buffered("a", 1) == 0  # the revoked partition's records were dropped


def test_one_partition_drained_from_messages_in_pieces(tmp_path: Any) -> None:
    """One input partition: the drain loop reads the Messages; stopping every 3 records keeps order and offsets,
    and tuples added to a queue holding Messages (or the reverse) keep their place."""
    (topic, records), _ = inputs()
    ref_task, ref = new_task(tmp_path, "ref", **{"processing.exception.handler": CONTINUE_PROCESSING})
    ref_task.add_records(topic, 0, records)
    while ref_task.process_batch(1000):
        pass
    task, collector = new_task(tmp_path, "pieces", **{"processing.exception.handler": CONTINUE_PROCESSING})
    owned = {(topic, 0): _Active(task)}
    hand_over([_message(topic, 0, r) for r in records[:3]], owned)
    task.add_records(topic, 0, records[3:5])
    hand_over([_message(topic, 0, r) for r in records[5:]], owned)
    seen = []
    while task.process_batch(3):
        seen.append(task.committable_offsets()[(topic, 0)])
    assert seen == [3, 6, 8]
    assert outputs(collector) == outputs(ref)


def test_a_fatal_consumer_error_raises_and_a_retriable_one_is_skipped(tmp_path: Any) -> None:
    task, _ = new_task(tmp_path, "errors")
    owned = {("a", 0): _Active(task)}
    (topic, records), _ = inputs()
    retriable = Message(topic=topic, partition=0, error=KafkaError(KafkaError._TRANSPORT, retriable=True))
    hand_over([_message(topic, 0, records[0]), retriable, _message(topic, 0, records[1])], owned)
    assert task.buffered(topic, 0) == 2
    fatal = Message(topic=topic, partition=0, error=KafkaError(KafkaError._FATAL, fatal=True))
    with pytest.raises(KafkaException):
        hand_over([_message(topic, 0, records[2]), fatal], owned)


class _FakeProducer:
    """produce() raises BufferError twice (a full queue: the sink's direct call and send()'s own try), then takes
    records; poll() is what waiting for room calls."""

    def __init__(self) -> None:
        self.records: list[tuple[Any, ...]] = []
        self.full = 2
        self.polls = 0

    def produce(self, *args: Any) -> None:
        if self.full:
            self.full -= 1
            raise BufferError("Local: Queue full")
        self.records.append(args)

    def poll(self, _timeout: float) -> int:
        self.polls += 1
        return 0


def _collector(cls: type[KafkaRecordCollector]) -> KafkaRecordCollector:
    collector = cls.__new__(cls)  # no librdkafka instance: the producer is a fake
    collector.error = None
    collector.sent = 0
    collector._pending, collector._acked, collector._partitions = {}, {}, {}
    collector.producer = _FakeProducer()  # type: ignore[assignment]
    collector._produce = collector.producer.produce
    return collector


def test_sinks_produce_directly_and_fall_back_to_send(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _ref_task, ref = _tuples_reference(tmp_path)
    collector = _collector(KafkaRecordCollector)
    assert collector.direct_send() == collector.producer.produce
    from tests.unit.processor import test_engine_paths
    monkeypatch.setattr(test_engine_paths, "ListRecordCollector", lambda: collector)
    task, _ = new_task(tmp_path, "direct", **{"processing.exception.handler": CONTINUE_PROCESSING})
    for topic, records in inputs():
        task.add_records(topic, 0, records)
    while task.process_batch(1000):
        pass
    producer = collector.producer
    assert producer.polls == 1  # the first record hit a full queue: send() waited for room and retried it
    got = [(t, k, v, ts, tuple(h or ())) for t, v, k, p, _cb, _od, ts, h in producer.records]
    assert got == outputs(ref) and all(r[3] == -1 for r in producer.records)
    assert collector.sent == 1  # only the retried record went through send()


def test_a_collector_overriding_send_gets_every_record(tmp_path: Any) -> None:
    class Counting(KafkaRecordCollector):
        def send(self, *args: Any) -> None:
            self.seen = getattr(self, "seen", 0) + 1
            super().send(*args)

    assert _collector(Counting).direct_send() is None


def test_a_chain_feeding_a_sink_gives_the_production_handler_the_record(tmp_path: Any) -> None:
    """source -> map_values -> sink runs without Record objects (chain.fields_of); a value the sink cannot
    serialize still reaches production.exception.handler as the Record the sink got, with its record context,
    exactly as on the record-at-a-time path."""
    from pystreams import Consumed, Produced, Serdes, StreamsBuilder
    from pystreams.processor import Record, TaskId
    from pystreams.processor.handlers import ProductionHandlerResponse
    from pystreams.processor.internals import StreamTask
    from pystreams.processor.internals.collector import ListRecordCollector
    from pystreams.processor.internals.nodes import ProcessorRuntime

    def run(direct: bool) -> tuple[list[Any], list[Any]]:
        seen: list[Any] = []

        class Skip:
            def handle_serialization_exception(self, context: Any, record: Any, exception: Exception,
                                               origin: Any) -> ProductionHandlerResponse:
                seen.append((type(record), tuple(record), context.topic, context.offset, origin.name))
                return ProductionHandlerResponse.CONTINUE

        b = StreamsBuilder()
        (b.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
         .map_values(lambda v: 7 if v == "int" else v + "!")
         .to("out", Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
        collector = ListRecordCollector()
        with pytest.MonkeyPatch.context() as mp:
            if not direct:
                mp.setattr(ProcessorRuntime, "direct", lambda self: None)
            task = StreamTask(b.build(), TaskId(0, 0), {"application.id": "fields",
                                                        "production.exception.handler": Skip}, collector,
                              state_dir=str(tmp_path / str(direct)))
        task.initialize()
        owned = {("in", 0): _Active(task)}
        hand_over([_message("in", 0, (i, 10 + i, b"k", v, [("h", b"1")] if i == 1 else ()))
                   for i, v in enumerate([b"a", b"int", b"b"])], owned)
        if direct:
            while task.process_batch(1000):
                pass
        else:
            while task.process():
                pass
        return outputs(collector), seen

    fast, reference = run(True), run(False)
    assert fast == reference
    assert fast[1] == [(Record, ("k", 7, 11, [("h", b"1")]), "in", 1, "VALUE")]
    assert [o[2] for o in fast[0]] == [b"a!", b"b!"]


def test_a_json_sink_encodes_like_its_serde_and_reports_its_errors(tmp_path: Any) -> None:
    """The sink calls orjson.dumps with the JsonSerde's default and option itself (serde_calls.orjson_call): the
    bytes are the serde's; what dumps cannot encode goes to the serde, whose error the sink reports."""
    from pystreams import Consumed, Produced, Serdes, StreamsBuilder
    from pystreams.errors import SerdeError
    from pystreams.processor import TaskId
    from pystreams.processor.internals import StreamTask
    from pystreams.processor.internals.collector import ListRecordCollector

    serde = Serdes.JSON()
    docs = {b"a": {"n": 1, "when": __import__("datetime").date(2024, 1, 2)}, b"b": [1, "x"], b"bad": object()}
    b = StreamsBuilder()
    (b.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
     .map_values(lambda v: docs[v.encode()])
     .to("out", Produced(key_serde=Serdes.String(), value_serde=serde)))
    collector = ListRecordCollector()
    task = StreamTask(b.build(), TaskId(0, 0), {"application.id": "json-sink"}, collector,
                      state_dir=str(tmp_path))
    task.initialize()
    hand_over([_message("in", 0, (i, 5, b"k", v, ())) for i, v in enumerate([b"a", b"b", b"bad"])],
              {("in", 0): _Active(task)})
    with pytest.raises(SerdeError, match="could not serialize"):
        while task.process_batch(1000):
            pass
    assert [r.value for r in collector.records] == [serde.serialize("out", docs[b"a"]),
                                                    serde.serialize("out", docs[b"b"])]
