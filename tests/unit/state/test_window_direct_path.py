"""The time-window aggregate's direct path (the engine calls it per record instead of process()) does what
process() does: the same outputs, store contents, dropped-records count and processing-exception-handler calls,
with late, too-late and None-key records and an aggregator that raises."""
from __future__ import annotations

import random
from typing import Any

import pytest

import pystreams.compiler.extensions  # noqa: F401
from pystreams import StreamsBuilder
from pystreams.compiler.processors.windowed import time_window_aggregate
from pystreams.dsl.options import Consumed, Grouped, Materialized, Produced
from pystreams.dsl.windowed import windowed_by
from pystreams.dsl.windows import TimeWindows
from pystreams.processor.handlers import ProcessingHandlerResponse
from pystreams.serdes import Serdes
from pystreams.serdes.windowed import WindowedSerdes
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit

SIZE = 100


class _Recorder:
    """A processing.exception.handler that records what it was called with and continues."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, Any, int, str, str]] = []

    def handle(self, context: Any, record: Any, exception: Exception) -> ProcessingHandlerResponse:
        self.calls.append((record.key, record.value, record.timestamp, context.processor_node_id,
                           type(exception).__name__))
        return ProcessingHandlerResponse.CONTINUE


def _sum_failing_on_3(_key: Any, value: int, agg: int) -> int:
    if value == 3:
        raise ValueError("no threes")
    return agg + value


def _run(windows: TimeWindows, direct: bool, monkeypatch: Any) -> Any:
    calls = {"direct": 0, "fields": 0}
    original_init = time_window_aggregate._WindowAggregateProcessor.init

    def init(self: Any, context: Any) -> None:
        original_init(self, context)
        if not direct:
            self._fast = None  # the direct path hands every record to process() (still the fused store update)
    monkeypatch.setattr(time_window_aggregate._WindowAggregateProcessor, "init", init)
    original_direct = time_window_aggregate._WindowAggregateProcessor.direct_process

    def counting_direct(self: Any, *args: Any) -> Any:
        run = original_direct(self, *args)
        run_fields = run._pystreams_fields  # what a fused chain before it calls, with no Record

        def counted(record: Any) -> None:
            if self._fast is not None:
                calls["direct"] += 1
            run(record)

        def counted_fields(key: Any, value: Any, timestamp: int, headers: Any) -> None:
            if self._fast is not None:
                calls["direct"] += 1
                calls["fields"] += 1
            run_fields(key, value, timestamp, headers)
        counted._pystreams_fields = counted_fields  # type: ignore[attr-defined]
        return counted
    monkeypatch.setattr(time_window_aggregate._WindowAggregateProcessor, "direct_process", counting_direct)
    s, lng = Serdes.String(), Serdes.Long()
    b = StreamsBuilder()
    # a map_values before the aggregate, as in the window benchmark: its fused chain hands the fields over
    grouped = b.stream("in", Consumed.with_(s, lng)).map_values(lambda v: v).group_by_key(Grouped.with_(s, lng))
    table = windowed_by(grouped, windows).aggregate(lambda: 0, _sum_failing_on_3,
                                                    Materialized.as_("w").with_key_serde(s).with_value_serde(lng))
    table.to_stream().to("out", Produced.with_(WindowedSerdes.time_windowed_serde_from(s, SIZE), lng))
    handler = _Recorder()
    rng = random.Random(5)
    with TopologyTestDriver(b.build(), {"application.id": "direct", "statestore.cache.max.bytes": 3_000,
                                        "processing.exception.handler": handler}) as d:
        src = d.create_input_topic("in", s, lng)
        out = d.create_output_topic("out", WindowedSerdes.time_windowed_serde_from(s, SIZE), lng)
        t = 0
        for _ in range(500):
            t += rng.randrange(0, 15)
            ts = t - rng.randrange(0, 3 * SIZE) if rng.random() < 0.2 else t
            key = None if rng.random() < 0.03 else f"k{rng.randrange(10)}"
            src.pipe_input(key, rng.randrange(0, 8), max(ts, 0))
        outputs = [(r.key, r.value, r.timestamp) for r in out.read_records_to_list()]
        stored = [(w.key, w.window.start, v) for w, v in d.get_state_store("w").all()]
        dropped = d.metrics()["dropped-records-total"]
    monkeypatch.undo()
    return (outputs, stored, dropped, handler.calls), calls


@pytest.mark.parametrize("windows", [TimeWindows.of_size_and_grace(SIZE, 20),
                                     TimeWindows.of_size_and_grace(SIZE, 30).advance_by(40)],
                         ids=["tumbling", "hopping"])
def test_direct_path_equals_process(windows: TimeWindows, monkeypatch: Any) -> None:
    direct, direct_calls = _run(windows, True, monkeypatch)
    plain, plain_calls = _run(windows, False, monkeypatch)
    # each run took the path it names; the direct one through the fields entry point (the chain calls it without
    # building a Record)
    assert direct_calls == {"direct": 500, "fields": 500} and plain_calls == {"direct": 0, "fields": 0}
    assert direct == plain
    outputs, stored, dropped, handled = direct
    assert outputs and stored
    assert dropped > 10  # late, too-late and None-key records, and the records the handler skipped
    assert handled and all(kind == "ValueError" and value == 3 for _k, value, _ts, _node, kind in handled)
