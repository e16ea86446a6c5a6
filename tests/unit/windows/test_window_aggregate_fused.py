"""The time-window aggregate with a record cache (the store's fused fetch-aggregate-put) forwards, drops, counts
and stores exactly what its plain fetch-then-put path does: hopping and tumbling windows, grace, late and
None-key records, aggregates that return None, count and aggregate, read back through the window store."""
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
from pystreams.serdes import Serdes
from pystreams.serdes.windowed import WindowedSerdes
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit

SIZE = 100


def _topology(windows: TimeWindows, how: str) -> Any:
    s, lng = Serdes.String(), Serdes.Long()
    b = StreamsBuilder()
    grouped = b.stream("in", Consumed.with_(s, lng)).group_by_key(Grouped.with_(s, lng))
    win = windowed_by(grouped, windows)
    if how == "count":
        table = win.count(Materialized.as_("w").with_key_serde(s).with_value_serde(lng))
    else:  # a sum that deletes its window when a 0 arrives (aggregator returning None)
        table = win.aggregate(lambda: 0, lambda k, v, agg: None if v == 0 else agg + v,
                              Materialized.as_("w").with_key_serde(s).with_value_serde(lng))
    table.to_stream().to("out", Produced.with_(WindowedSerdes.time_windowed_serde_from(s, SIZE), lng))
    return b.build()


def _run(windows: TimeWindows, how: str, fused: bool, monkeypatch: Any) -> Any:
    if not fused:
        original = time_window_aggregate._WindowAggregateProcessor.init

        def plain_init(self: Any, context: Any) -> None:
            original(self, context)
            self._aggregate_window = None  # the fetch-then-put path
        monkeypatch.setattr(time_window_aggregate._WindowAggregateProcessor, "init", plain_init)
    rng = random.Random(11)
    with TopologyTestDriver(_topology(windows, how), {"application.id": "fused",
                                                     "statestore.cache.max.bytes": 2_000}) as d:
        src = d.create_input_topic("in", Serdes.String(), Serdes.Long())
        out = d.create_output_topic("out", WindowedSerdes.time_windowed_serde_from(Serdes.String(), SIZE),
                                    Serdes.Long())
        t = 0
        for _ in range(600):
            t += rng.randrange(0, 15)
            ts = t - rng.randrange(0, 3 * SIZE) if rng.random() < 0.2 else t  # some late, some too late
            key = None if rng.random() < 0.02 else f"k{rng.randrange(12)}"
            src.pipe_input(key, rng.randrange(0, 6), max(ts, 0))
        outputs = [(r.key, r.value, r.timestamp) for r in out.read_records_to_list()]
        store = d.get_state_store("w")
        stored = [(w.key, w.window.start, v) for w, v in store.all()]
        fetched = [list(store.fetch(f"k{i}", 0, t)) for i in range(12)]
        metrics = d.metrics()
    monkeypatch.undo()
    return outputs, stored, fetched, metrics["dropped-records-total"], metrics["process-total"]


@pytest.mark.parametrize("how", ["count", "aggregate"])
@pytest.mark.parametrize("windows", [TimeWindows.of_size_and_grace(SIZE, 20),
                                     TimeWindows.of_size_and_grace(SIZE, 30).advance_by(40)],
                         ids=["tumbling", "hopping"])
def test_fused_window_aggregate_equals_the_plain_path(windows: TimeWindows, how: str, monkeypatch: Any) -> None:
    fused = _run(windows, how, True, monkeypatch)
    plain = _run(windows, how, False, monkeypatch)
    assert fused == plain
    outputs, stored, _fetched, dropped, _processed = fused
    assert outputs and stored and dropped > 10  # late and None-key records were dropped and counted
