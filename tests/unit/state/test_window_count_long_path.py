"""The windowed count()'s specialized per-record path (window_aggregate's count_long, taken for count() into a Long
store, and the time-window processor's one-window branch for tumbling windows) does what the plain path does:

- in the topology: count() through the direct path equals count() through process() (tumbling and hopping, late,
  too-late and None-key records, a small evicting cache): outputs, store contents, dropped records;
- in the store: a count at the end of Long's range fails as fetch then put fail, and leaves the same entry;
- the skipped RocksDB read of a window whose segment the store does not hold: a window flushed, evicted and
  counted again is read back (the count goes on from the stored value)."""
from __future__ import annotations

import random
from typing import Any

import pytest

import pystreams.compiler.extensions  # noqa: F401
from pystreams import StreamsBuilder
from pystreams.compiler.processors.stateful.stream_aggregate import count_aggregator, count_initializer
from pystreams.compiler.processors.windowed import time_window_aggregate
from pystreams.dsl.options import Consumed, Grouped, Materialized, Produced
from pystreams.dsl.windowed import windowed_by
from pystreams.dsl.windows import TimeWindows
from pystreams.serdes import Serdes
from pystreams.serdes.windowed import WindowedSerdes
from pystreams.state import ValueAndTimestamp
from pystreams.state.context import StateStoreContext
from pystreams.state.internals.cache import ThreadCache
from pystreams.state.window import persistent_timestamped_window_store, timestamped_window_store_builder
from pystreams.state.window.keys import to_store_key
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit

SIZE = 100
LONG_MAX = (1 << 63) - 1


def _count_topology(windows: TimeWindows, direct: bool, monkeypatch: Any) -> Any:
    original_init = time_window_aggregate._WindowAggregateProcessor.init
    taken = {"fast": 0}

    def init(self: Any, context: Any) -> None:
        original_init(self, context)
        if not direct:
            self._fast = None  # every record goes to process() (which still uses the store's fused update)
        elif self._fast is not None:
            taken["fast"] += 1
    monkeypatch.setattr(time_window_aggregate._WindowAggregateProcessor, "init", init)
    s, lng = Serdes.String(), Serdes.Long()
    b = StreamsBuilder()
    grouped = b.stream("in", Consumed.with_(s, s)).map_values(lambda v: v).group_by_key(Grouped.with_(s, s))
    table = windowed_by(grouped, windows).count(Materialized.as_("w").with_key_serde(s).with_value_serde(lng))
    out_serde = WindowedSerdes.time_windowed_serde_from(s, SIZE)
    table.to_stream().to("out", Produced.with_(out_serde, lng))
    rng = random.Random(9)
    with TopologyTestDriver(b.build(), {"application.id": "count-path", "statestore.cache.max.bytes": 2_000}) as d:
        src = d.create_input_topic("in", s, s)
        out = d.create_output_topic("out", out_serde, lng)
        t = 0
        for i in range(600):
            t += rng.randrange(0, 12)
            ts = t - rng.randrange(0, 3 * SIZE) if rng.random() < 0.2 else t  # late, some too late
            key = None if rng.random() < 0.03 else f"k{rng.randrange(12)}"
            src.pipe_input(key, "v", max(ts, 0))
            if i % 150 == 149:
                d.advance_wall_clock_time(30_000)  # a commit: the cache flushes
        outputs = [(r.key.key, r.key.window.start, r.value, r.timestamp) for r in out.read_records_to_list()]
        stored = [(w.key, w.window.start, v) for w, v in d.get_state_store("w").all()]
        dropped = d.metrics()["dropped-records-total"]
    monkeypatch.undo()
    return (outputs, stored, dropped), taken["fast"]


@pytest.mark.parametrize("windows", [TimeWindows.of_size_and_grace(SIZE, 20),
                                     TimeWindows.of_size_and_grace(SIZE, 30).advance_by(40)],
                         ids=["tumbling", "hopping"])
def test_count_direct_path_equals_process(windows: TimeWindows, monkeypatch: Any) -> None:
    direct, fast_inits = _count_topology(windows, True, monkeypatch)
    plain, _ = _count_topology(windows, False, monkeypatch)
    assert fast_inits == 1  # the direct run took the fast path
    assert direct == plain
    outputs, stored, dropped = direct
    assert outputs and stored and dropped > 10
    assert max(v.value for _k, _s, v in stored) > 3


def _store(tmp_path: Any, cache_bytes: int = 10_000_000) -> tuple[Any, StateStoreContext]:
    ctx = StateStoreContext("app", "0_0", str(tmp_path), cache=ThreadCache(cache_bytes))
    store = timestamped_window_store_builder(persistent_timestamped_window_store("w", 5 * SIZE, SIZE),
                                             Serdes.String(), Serdes.Long()).with_caching_enabled().build()
    store.init(ctx, store)
    ctx.record_context.timestamp, ctx.record_context.topic = 5, "in"
    return store, ctx


def test_count_at_the_end_of_long_range_fails_as_fetch_then_put(tmp_path: Any) -> None:
    results = []
    for counting in (True, False):
        store, _ctx = _store(tmp_path / str(counting))
        store.put("k", ValueAndTimestamp(LONG_MAX - 1, 5), 0)
        update = store.window_updater(count_initializer, count_aggregator, counting, tumbling=True)
        update("k", 0, "v", 6)  # LONG_MAX: still a Long
        assert store.fetch("k", 0) == ValueAndTimestamp(LONG_MAX, 6)
        with pytest.raises(Exception) as failed:  # whatever the Long serde raises, on both paths
            update("k", 0, "v", 7)
        results.append((type(failed.value), store.fetch("k", 0), store.puts, store.fetches))
        store.close()
    assert results[0] == results[1]


def test_evicted_window_is_read_back_from_rocksdb(tmp_path: Any) -> None:
    """A new window (its segment not in the store yet) starts at 1 without a read; once flushed and evicted from
    the cache, the next count reads the stored value back."""
    start = 120_000  # not in segment 0 (segments of 60 s): the segment test must use the store's interval
    store, _ctx = _store(tmp_path, cache_bytes=400)
    update = store.window_updater(count_initializer, count_aggregator, True, tumbling=True)
    for t in range(3):
        update("a", start, "v", start + t)
    store.flush()
    for i in range(20):  # another window's keys push "a"'s out of the small cache
        update(f"other{i}", start + SIZE, "v", start + SIZE + 1)
    a_key = to_store_key(b"a", start, 0)
    assert not any(k[8:] == a_key for k in store._caching._named.entries)
    update("a", start, "v", start + 5)
    store.flush()
    assert store.fetch("a", start) == ValueAndTimestamp(4, start + 5)
    store.close()
