"""KGroupedStream count/reduce/aggregate with a record cache (the processor's fused path into the store's
aggregate()) forwards, logs, drops, counts and stores exactly what the get-then-put path does: through the
TopologyTestDriver (a commit per record, a small cache that evicts) and through a StreamTask with commits every
few hundred records (dedup across records), with None keys and values, late records and an aggregator that
deletes its key (returns None)."""
from __future__ import annotations

import random
import tempfile
from collections import Counter
from typing import Any

import pytest

from pystreams import StreamsBuilder
from pystreams.compiler.processors.stateful import stream_aggregate
from pystreams.dsl.options import Consumed, Grouped, Materialized, Produced
from pystreams.serdes import Serdes
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit


def _topology(how: str) -> Any:
    s, lng = Serdes.String(), Serdes.Long()
    b = StreamsBuilder()
    stream = b.stream("in", Consumed.with_(s, lng))
    if how == "count_after_flat_map":  # records reach the aggregate as Records (context.forward), not as fields
        stream = stream.flat_map_values(lambda v: [v, v])
    grouped = stream.group_by_key(Grouped.with_(s, lng))
    mat = Materialized.as_("agg").with_key_serde(s).with_value_serde(lng)
    if how.startswith("count"):
        table = grouped.count(mat)
    elif how == "reduce":
        table = grouped.reduce(lambda agg, v: None if v == 0 else agg + v, mat)
    elif how == "failing":  # user code that raises for some records (the processing exception handler decides)
        table = grouped.aggregate(lambda: 0, lambda k, v, agg: agg + 1 // (v - 3), mat)
    else:  # a sum that deletes its key when a 0 arrives (aggregator returning None)
        table = grouped.aggregate(lambda: 0, lambda k, v, agg: None if v == 0 else agg + v, mat)
    table.to_stream().to("out", Produced.with_(s, lng))
    return b.build()


def _inputs(n: int) -> list[tuple[Any, Any, int]]:
    rng = random.Random(17)
    out, t = [], 0
    for _ in range(n):
        t += rng.randrange(0, 15)
        ts = t - rng.randrange(0, 300) if rng.random() < 0.2 else t  # some late
        key = None if rng.random() < 0.02 else f"k{rng.randrange(12)}"
        value = None if rng.random() < 0.02 else rng.randrange(0, 6)
        out.append((key, value, max(ts, 0)))
    return out


def _plain(monkeypatch: Any) -> None:
    original = stream_aggregate._StreamAggProcessor.init

    def plain_init(self: Any, context: Any) -> None:
        original(self, context)
        self._fused = None  # the get-then-put path
    monkeypatch.setattr(stream_aggregate._StreamAggProcessor, "init", plain_init)


def _driver_run(how: str, fused: bool, monkeypatch: Any) -> Any:
    if not fused:
        _plain(monkeypatch)
    with TopologyTestDriver(_topology(how), {"application.id": "fused",
                                             "statestore.cache.max.bytes": 600}) as d:
        src = d.create_input_topic("in", Serdes.String(), Serdes.Long())
        out = d.create_output_topic("out", Serdes.String(), Serdes.Long())
        for key, value, ts in _inputs(600):
            src.pipe_input(key, value, ts)
        outputs = [(r.key, r.value, r.timestamp) for r in out.read_records_to_list()]
        changelog = [(r.key, r.value, r.timestamp) for r in
                     d.create_output_topic("fused-agg-changelog", Serdes.String(), Serdes.Long())
                     .read_records_to_list()]
        store = d.get_timestamped_key_value_store("agg")
        stored = [(kv.key, kv.value) for kv in store.all()]
        metrics = d.metrics()
    monkeypatch.undo()
    return outputs, changelog, stored, metrics["dropped-records-total"], metrics["process-total"]


@pytest.mark.parametrize("how", ["count", "count_after_flat_map", "reduce", "aggregate"])
def test_fused_stream_aggregate_equals_the_plain_path(how: str, monkeypatch: Any) -> None:
    fused = _driver_run(how, True, monkeypatch)
    plain = _driver_run(how, False, monkeypatch)
    assert fused == plain
    outputs, changelog, stored, dropped, _processed = fused
    assert outputs and changelog and stored and dropped > 5  # None keys and values were dropped and counted
    if not how.startswith("count"):
        assert any(v is None for _k, v, _t in outputs)  # deletes were forwarded as tombstones


class _Collector:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, topic: str, key: Any, value: Any, headers: Any, timestamp: int, partition: Any) -> None:
        self.sent.append((topic, key, value, timestamp))

    def flush(self) -> None:
        pass

    def partitions_for(self, topic: str) -> int | None:
        return None


class _Continue:
    """A processing exception handler that keeps what it was handed and skips the record."""

    def __init__(self) -> None:
        self.handled: list[Any] = []

    def handle(self, context: Any, record: Any, exception: Exception) -> Any:
        from pystreams.processor.handlers import ProcessingHandlerResponse
        self.handled.append((type(record).__name__, tuple(record), context.offset, type(exception).__name__))
        return ProcessingHandlerResponse.CONTINUE

    def configure(self, configs: Any) -> None:
        pass


def _task_run(how: str, fused: bool, monkeypatch: Any, handler: Any = None) -> Any:
    from pystreams.processor.internals.task import StreamTask
    from pystreams.processor.task_id import TaskId

    if not fused:
        _plain(monkeypatch)
    s, lng = Serdes.String(), Serdes.Long()
    raw = [(i, ts, None if k is None else s.serialize("in", k), None if v is None else lng.serialize("in", v), ())
           for i, (k, v, ts) in enumerate(_inputs(3000))]
    collector = _Collector()
    with tempfile.TemporaryDirectory() as state_dir:
        configs: dict[str, Any] = {"application.id": "fused"}
        if handler is not None:
            configs["processing.exception.handler"] = handler
        task = StreamTask(_topology(how), TaskId(0, 0), configs, collector, state_dir=state_dir)
        task.initialize()
        for i in range(0, len(raw), 100):
            task.add_records("in", 0, raw[i:i + 100])
            task.process_batch(1_000_000)
            if i % 700 == 600:
                task.commit()
        task.commit()
        task.close()
    monkeypatch.undo()
    return collector.sent


@pytest.mark.parametrize("how", ["count", "reduce", "aggregate"])
def test_fused_stream_aggregate_dedups_like_the_plain_path(how: str, monkeypatch: Any) -> None:
    fused = _task_run(how, True, monkeypatch)
    assert fused == _task_run(how, False, monkeypatch)
    per_topic = Counter(topic for topic, *_ in fused)
    assert per_topic["out"] == per_topic["fused-agg-changelog"]
    assert 12 <= per_topic["out"] < 3000 // 10  # one update per key per commit, not one per record


def test_fused_stream_aggregate_hands_failures_to_the_handler_like_the_plain_path(monkeypatch: Any) -> None:
    """An aggregator that raises: the handler gets the same records (as Records) at the same offsets, the other
    records' updates are the same."""
    fused_handler, plain_handler = _Continue(), _Continue()
    fused = _task_run("failing", True, monkeypatch, fused_handler)
    assert fused == _task_run("failing", False, monkeypatch, plain_handler)
    assert fused_handler.handled == plain_handler.handled
    assert len(fused_handler.handled) > 100
    assert {h[0] for h in fused_handler.handled} == {"Record"} and {h[3] for h in fused_handler.handled} == {
        "ZeroDivisionError"}


@pytest.mark.parametrize("how", ["count", "aggregate"])
def test_direct_paths_equal_the_generic_node_path(how: str, monkeypatch: Any) -> None:
    """With the engine's direct paths off (every node through ProcessorRuntime.process: the aggregate's process(),
    to_stream's process()) the outputs and changelog are the same as with them on (the aggregate's run_fields and
    fused update, to_stream's map_values step fused with the sink)."""
    from pystreams.processor.internals.nodes import ProcessorRuntime

    direct = _task_run(how, True, monkeypatch)
    monkeypatch.setattr(ProcessorRuntime, "direct", lambda self: None)
    generic = _task_run(how, True, monkeypatch)
    assert direct == generic and len(direct) > 50
