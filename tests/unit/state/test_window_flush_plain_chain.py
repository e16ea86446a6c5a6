"""A window aggregate's cache flush hands plain new values straight to to_stream() and what it is fused with
(WindowCacheFlushListener.plain_fields -> ProcessorContextImpl.plain_change_forwarder -> chain.plain_change_fields)
instead of a Change and a Record through ProcessorContext.forward. Both paths must send the same output and
changelog records (key, value, headers, timestamp, partition, order) and give a processing.exception.handler the
same records, with late records (a value timestamp later than the entry's: the forward re-stamps), headers,
evictions and commits."""
from __future__ import annotations

import random
from datetime import timedelta
from operator import attrgetter
from typing import Any

import pytest

from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder, TimeWindows
from pystreams.compiler.processors.windowed.flush_listener import WindowCacheFlushListener
from pystreams.processor.handlers import ProcessingHandlerResponse
from pystreams.processor.internals import context as context_module
from pystreams.processor.internals.chain import compile_chain, plain_change_fields
from pystreams.processor.internals.task import StreamTask
from pystreams.processor.record import Record
from pystreams.processor.task_id import TaskId
from pystreams.state.api import Change

pytestmark = pytest.mark.unit

SIZE = 1000


class _Collector:
    def __init__(self) -> None:
        self.sent: list[tuple[Any, ...]] = []

    def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Any, timestamp: int,
             partition: int | None) -> None:
        self.sent.append((topic, key, value, tuple(headers or ()), timestamp, partition))

    def flush(self) -> None:
        pass

    def partitions_for(self, topic: str) -> int | None:
        return None


class _Handler:
    def __init__(self) -> None:
        self.seen: list[tuple[Any, ...]] = []

    def handle(self, context: Any, record: Any, exception: Exception) -> ProcessingHandlerResponse:
        value = record.value
        self.seen.append((context.processor_node_id, context.topic, context.partition, context.offset,
                          tuple(context.headers or ()), context.timestamp, type(record), tuple(record), type(value),
                          str(exception)))
        return ProcessingHandlerResponse.CONTINUE


def _mapper(wk: Any, v: Any) -> str:
    if wk.key == "bad" and v % 2 == 0:
        raise ValueError(f"no {wk.key}@{wk.window.start} at {v}")
    return f"{wk.key}@{wk.window.start}"


class _Recorder:
    """A processor after the fused chain: what it gets and the record context it sees it under."""

    def __init__(self, log: list[Any], task: dict[str, Any]) -> None:
        self.log, self.task = log, task

    def init(self, context: Any) -> None:
        pass

    def process(self, record: Any) -> None:
        rc = self.task["task"].store_context.record_context
        self.log.append((tuple(record), rc.timestamp, rc.offset, rc.topic, rc.partition, tuple(rc.headers or ())))

    def close(self) -> None:
        pass


def _topology(shape: str, log: list[Any], task: dict[str, Any]) -> Any:
    builder = StreamsBuilder()
    counts = (builder.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
              .group_by_key(Grouped(key_serde=Serdes.String(), value_serde=Serdes.String()))
              .windowed_by(TimeWindows.of_size_and_grace(timedelta(milliseconds=SIZE),
                                                         timedelta(milliseconds=5 * SIZE)))
              .count(Materialized(name="counts")))
    if shape == "mapper":  # the benchmark's to_stream(key mapper).to()
        stream = counts.to_stream(_mapper)
    elif shape == "map":
        stream = counts.to_stream().map(lambda wk, v: (_mapper(wk, v), v * 10))
    elif shape == "process":  # a processor node after the chain sees the forwarded record's timestamp
        counts.to_stream(_mapper).process(lambda: _Recorder(log, task))
        return builder.build()
    else:
        stream = counts.to_stream().select_key(_mapper).filter(lambda _k, v: v % 3 != 0)
    stream.to("out", Produced(key_serde=Serdes.String(), value_serde=Serdes.Long()))
    return builder.build()


def _run(tmp_path: Any, fused: bool, shape: str, cache_bytes: int, monkeypatch: Any) -> Any:
    made: list[Any] = []
    real = context_module.plain_change_fields

    def spy(emit: Any, rewrap: Any) -> Any:
        result = real(emit, rewrap)
        made.append(result)
        return result

    monkeypatch.setattr(context_module, "plain_change_fields", spy)
    if not fused:
        monkeypatch.setattr(WindowCacheFlushListener, "plain_fields", lambda self: None)
    collector, handler = _Collector(), _Handler()
    log: list[Any] = []
    holder: dict[str, Any] = {}
    task = holder["task"] = StreamTask(_topology(shape, log, holder), TaskId(0, 0),
                      {"application.id": "flush-plain", "statestore.cache.max.bytes": cache_bytes,
                       "processing.exception.handler": handler}, collector,
                      state_dir=str(tmp_path / f"{fused}-{shape}-{cache_bytes}"))
    task.initialize()
    try:
        rng = random.Random(5)
        t = 0
        offset = 0
        for batch in range(40):
            records = []
            for _ in range(50):
                t += rng.randrange(0, 40)
                ts = max(0, t - rng.randrange(0, 3 * SIZE)) if rng.random() < 0.3 else t  # late records
                key = "bad" if rng.random() < 0.1 else f"k{rng.randrange(12)}"
                headers = [("h", str(offset % 3).encode())] if offset % 4 == 0 else []
                records.append((offset, ts, key.encode(), b"v", headers))
                offset += 1
            task.add_records("in", 0, records)
            task.process_batch(1_000_000)
            if batch % 3 == 2:
                task.commit()
        task.commit()
    finally:
        task.close()
    if fused:
        assert made and all(f is not None for f in made)  # the fused path was taken
    return collector.sent, handler.seen, log


@pytest.mark.parametrize("shape", ["mapper", "map", "filter", "process"])
@pytest.mark.parametrize("cache_bytes", [10 * 1024 * 1024, 2_000])
def test_fused_flush_equals_forward(tmp_path: Any, monkeypatch: Any, shape: str, cache_bytes: int) -> None:
    with monkeypatch.context() as m:
        plain = _run(tmp_path, False, shape, cache_bytes, m)
    with monkeypatch.context() as m:
        fused = _run(tmp_path, True, shape, cache_bytes, m)
    sent, seen, log = plain
    assert any(topic == "out" for topic, *_ in sent) or shape == "process"
    assert any(topic.endswith("-changelog") for topic, *_ in sent)
    assert seen  # the mapper's errors reached the handler
    # each record is seen under a record context of its own timestamp, also for a late record's window (whose
    # value timestamp is later than its entry's: forward() re-stamps the record context)
    assert shape != "process" or (log and all(rec[2] == ts for rec, ts, *_ in log))
    assert fused == plain


def _on_error(log: list[Any], name: str) -> Any:
    def on_error(e: Exception, record: Any) -> None:
        log.append((name, type(record), tuple(record), type(record.value), str(e)))
    return on_error


def _sink(out: list[Any]) -> Any:
    def sink(record: Any) -> None:
        if record.value == 0:
            raise ValueError("zero")
        out.append(tuple(record))
    return sink


def test_plain_change_fields_single_step_errors_get_the_change_record() -> None:
    """A chain of to_stream() alone: what follows it raises into to_stream()'s handler with the Record of the
    Change it would have received, on both paths."""
    def rewrap(v: Any) -> Any:
        return Change(v, None, True)

    for path in ("plain", "fused"):
        log: list[Any] = []
        out: list[Any] = []
        run = compile_chain([("map_values", attrgetter("new_value"), None, _on_error(log, "to_stream"))], _sink(out))
        if path == "plain":
            for v in (1, 0, 2):
                run(Record("k", rewrap(v), 5, ()))
        else:
            fields = plain_change_fields(run, rewrap)
            assert fields is not None
            assert plain_change_fields(run, rewrap) is fields  # made once per chain and rewrap
            for v in (1, 0, 2):
                fields("k", v, 5, ())
        assert out == [("k", 1, 5, ()), ("k", 2, 5, ())]
        assert log == [("to_stream", Record, ("k", Change(0, None, True), 5, ()), Change, "zero")]


def test_plain_change_fields_only_for_to_stream_chains() -> None:
    def rewrap(v: Any) -> Any:
        return Change(v, None, True)

    def sink(_record: Any) -> None:
        pass

    assert plain_change_fields(sink, rewrap) is None  # not a chain
    other = compile_chain([("map_values", lambda c: c.new_value, None, _on_error([], "x"))], sink)
    assert plain_change_fields(other, rewrap) is None  # not to_stream()'s step
    old = compile_chain([("map_values", attrgetter("old_value"), None, _on_error([], "x"))], sink)
    assert plain_change_fields(old, rewrap) is None
