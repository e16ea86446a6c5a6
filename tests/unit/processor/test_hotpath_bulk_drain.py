"""RecordQueue._drain_bulk (buffered consumer Messages decoded a chunk at a time) gives exactly what the
record-by-record drain gives: outputs, timestamps, headers, stream and partition time, committable offsets;
a processing error mid-chunk leaves the same head, buffered records and offsets; a record that does not decode
or has a negative timestamp sends its chunk record by record, so the deserialization handler sees it in order."""
from __future__ import annotations

import logging
from typing import Any

import pytest
from confluent_kafka import Message

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.processor import TaskId
from pystreams.processor.internals import StreamTask
from pystreams.processor.internals import record_queue
from pystreams.processor.internals.collector import ListRecordCollector
from pystreams.processor.internals.record_queue import RecordQueue

pytestmark = pytest.mark.unit
CONTINUE_DESERIALIZATION = "org.apache.kafka.streams.errors.LogAndContinueExceptionHandler"


def _topology(value_serde: Any, seen: list[Any] | None = None, fail_on: Any = None, branches: int = 1) -> Any:
    b = StreamsBuilder()
    s = b.stream("in", Consumed(key_serde=Serdes.String(), value_serde=value_serde))

    def look(k: Any, v: Any) -> None:
        if seen is not None:
            seen.append((k, v))
        if fail_on is not None and v == fail_on:
            raise RuntimeError(f"failed on {v!r}")

    s = s.peek(look)
    for i in range(branches):
        out = Serdes.ByteArray() if type(value_serde) is type(Serdes.ByteArray()) else Serdes.JSON()
        s.map_values(lambda v, i=i: v if i == 0 else (i, v)).to(
            f"out{i}", Produced(key_serde=Serdes.String(), value_serde=out))
    return b.build()


def _task(tmp: Any, name: str, topology: Any, **configs: Any) -> tuple[StreamTask, ListRecordCollector]:
    collector = ListRecordCollector()
    task = StreamTask(topology, TaskId(0, 0), {"application.id": "bulk", **configs}, collector,
                      state_dir=str(tmp / name))
    task.initialize()
    return task, collector


def _messages(n: int, start: int = 0, bad: set[int] = frozenset(), negative: set[int] = frozenset(),  # type: ignore
              null_keys: bool = False) -> list[Message]:
    out = []
    for i in range(start, start + n):
        value = b"{not json" if i in bad else (b"null" if i % 7 == 3 else b'{"n": %d}' % i)
        if i % 11 == 5:
            value = None  # a tombstone
        headers = [("h", str(i).encode())] if i % 5 == 1 else ([] if i % 5 == 2 else None)
        ts = -5 if i in negative else 1_000 + (i * 37) % 500  # out of order
        out.append(Message(topic="in", partition=0, offset=10 + i, key=None if null_keys and i % 3 == 0
                           else f"k{i}".encode(), value=value, headers=headers, timestamp=(1, ts)))
    return out


def _outputs(collector: ListRecordCollector) -> list[Any]:
    return [(r.topic, r.key, r.value, r.timestamp, tuple(r.headers or ())) for r in collector.records]


def _state(task: StreamTask) -> tuple[Any, ...]:
    q = task._queues[("in", 0)]
    return (task.stream_time, q.partition_time, q.committable_offset(), q.head, len(q.raw), task.metrics.processed,
            task.metrics.dropped_records)


def _run(tmp: Any, name: str, batches: list[list[Message]], bulk: bool, monkeypatch: pytest.MonkeyPatch,
         topology: Any, limit: int = 1_000_000, **configs: Any) -> tuple[StreamTask, list[Any], int]:
    with monkeypatch.context() as mp:
        if not bulk:
            mp.setattr(RecordQueue, "_drain_bulk", lambda self, rc: 0)
        task, collector = _task(tmp, name, topology, **configs)
        bulk_calls = 0
        original = RecordQueue._drain_bulk

        def counting(self: RecordQueue, rc: Any) -> int:
            nonlocal bulk_calls
            bulk_calls += 1
            return original(self, rc)  # type: ignore[no-any-return]

        if bulk:
            mp.setattr(RecordQueue, "_drain_bulk", counting)
        for batch in batches:
            task.add_messages("in", 0, batch)
            while task.process_batch(limit):
                pass
    return task, _outputs(collector), bulk_calls


@pytest.mark.parametrize("n", [1, 2, 127, 128, 129, 300, 1000])
@pytest.mark.parametrize("branches", [1, 2])
@pytest.mark.parametrize("null_keys", [False, True])
def test_bulk_matches_record_by_record(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, n: int, branches: int,
                                       null_keys: bool) -> None:
    batches = [_messages(n, null_keys=null_keys), _messages(n, start=n, null_keys=null_keys)]
    ref, ref_out, _ = _run(tmp_path, "ref", batches, False, monkeypatch, _topology(Serdes.JSON(), branches=branches))
    got, got_out, calls = _run(tmp_path, "bulk", batches, True, monkeypatch,
                               _topology(Serdes.JSON(), branches=branches))
    assert calls > 0
    assert got_out == ref_out
    assert len(got_out) == 2 * n * branches
    assert _state(got) == _state(ref)


def test_byte_array_values_pass_as_they_are(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    batches = [_messages(300, bad={4, 200})]  # not JSON: bytes are bytes
    seen_ref: list[Any] = []
    seen: list[Any] = []
    ref, _, _ = _run(tmp_path, "ref", batches, False, monkeypatch, _topology(Serdes.ByteArray(), seen_ref))
    got, _, calls = _run(tmp_path, "bulk", batches, True, monkeypatch, _topology(Serdes.ByteArray(), seen))
    assert calls == 1 and seen == seen_ref and seen[4][1] == b"{not json"
    assert _state(got) == _state(ref)


@pytest.mark.parametrize("fail_at", [0, 1, 125, 127, 128, 130, 250, 299])
def test_a_processing_error_mid_chunk_leaves_the_queue_as_record_by_record(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch, fail_at: int) -> None:
    batches = [_messages(300)]
    target = {"n": fail_at}
    results = []
    for bulk in (False, True):
        task, collector = _task(tmp_path, f"fail{bulk}", _topology(Serdes.JSON(), fail_on=target))
        with monkeypatch.context() as mp:
            if not bulk:
                mp.setattr(RecordQueue, "_drain_bulk", lambda self, rc: 0)
            task.add_messages("in", 0, batches[0])
            with pytest.raises(Exception, match="failed on"):
                task.process_batch(1_000_000)
            state = _state(task)
            outs = list(_outputs(collector))
            while task.process_batch(1_000_000):  # the rest, after the failed record
                pass
        results.append((state, outs, _outputs(collector), _state(task)))
    assert results[1] == results[0]
    assert results[0][0][2] == 10 + fail_at + 1  # the failed record counts as processed


def test_a_record_that_does_not_decode_goes_to_the_handler_in_order(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    batches = [_messages(400, bad={3, 260})]
    seen_ref: list[Any] = []
    seen: list[Any] = []
    conf = {"deserialization.exception.handler": CONTINUE_DESERIALIZATION}
    with caplog.at_level(logging.WARNING):
        ref, ref_out, _ = _run(tmp_path, "ref", batches, False, monkeypatch, _topology(Serdes.JSON(), seen_ref),
                               **conf)
        got, got_out, _ = _run(tmp_path, "bulk", batches, True, monkeypatch, _topology(Serdes.JSON(), seen), **conf)
    assert got_out == ref_out and seen == seen_ref and len(seen) == 398
    assert _state(got) == _state(ref)
    assert got.metrics.dropped_records == 2


def test_a_negative_timestamp_goes_to_the_extractor(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = {"default.timestamp.extractor":
            "org.apache.kafka.streams.processor.LogAndSkipOnInvalidTimestamp"}
    batches = [_messages(300, negative={150})]
    ref, ref_out, _ = _run(tmp_path, "ref", batches, False, monkeypatch, _topology(Serdes.JSON()), **conf)
    got, got_out, _ = _run(tmp_path, "bulk", batches, True, monkeypatch, _topology(Serdes.JSON()), **conf)
    assert got_out == ref_out and len(got_out) == 299
    assert _state(got) == _state(ref)


@pytest.mark.parametrize("limit", [1, 5, 299, 300, 301])
def test_a_limit_below_the_buffer_goes_record_by_record(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                        limit: int) -> None:
    batches = [_messages(300), _messages(300, start=300)]
    ref, ref_out, _ = _run(tmp_path, "ref", batches, False, monkeypatch, _topology(Serdes.JSON()), limit=limit)
    got, got_out, _ = _run(tmp_path, "bulk", batches, True, monkeypatch, _topology(Serdes.JSON()), limit=limit)
    assert got_out == ref_out and _state(got) == _state(ref)


def test_typed_json_is_not_decoded_ahead(tmp_path: Any) -> None:
    """A typed JSON serde may run user code (__post_init__): no pure decoder, so no bulk decode."""
    import msgspec

    class Doc(msgspec.Struct):
        n: int

    assert record_queue.pure_decoder(Serdes.JSON(Doc)) is None
    assert record_queue.pure_decoder(Serdes.JSON()) is not None
    assert record_queue.pure_decoder(Serdes.ByteArray()) is record_queue.IDENTITY
