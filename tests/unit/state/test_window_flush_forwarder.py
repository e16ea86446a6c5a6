"""The window store's batch-flush forwarder (MeteredTimestampedWindowStore._flushed_forwarder) forwards what the
DSL's TimestampedCacheFlushListener forwards for each flushed entry: the same Records (Windowed key, Change(new,
None, is_latest), the value's timestamp, the entry's headers), under the same record context, in the same order,
for Long values held in the cache and for JSON values read from bytes, through commits and evictions."""
from __future__ import annotations

import random
from typing import Any

import pytest

from pystreams.compiler.processors.stateful.forwarding import TimestampedCacheFlushListener
from pystreams.processor.record import Record
from pystreams.serdes import Serdes
from pystreams.serdes.primitives import LongSerde
from pystreams.serdes.windowed import TimeWindow, Windowed
from pystreams.state import ValueAndTimestamp
from pystreams.state.api import Change
from pystreams.state.context import RecordContext, StateStoreContext
from pystreams.state.internals.cache import ThreadCache
from pystreams.state.window import (in_memory_window_store, persistent_timestamped_window_store,
                                    timestamped_window_store_builder)
from pystreams.state.window.metered import MeteredTimestampedWindowStore

pytestmark = pytest.mark.unit

SIZE = 1000


class _Context:
    """The processor context the listener forwards to: records what it gets and the record context then."""

    def __init__(self, sctx: StateStoreContext) -> None:
        self.sctx = sctx
        self.forwarded: list[tuple[Any, ...]] = []

    def forward(self, record: Any) -> None:
        rc = self.sctx.record_context
        value = record.value
        self.forwarded.append((type(record), record, type(value), value.new_value, value.old_value,
                               value.is_latest, type(record.key), record.key.key, record.key.window,
                               rc.timestamp, rc.offset, rc.topic, rc.partition, rc.headers))


def _run(tmp_path: Any, fast: bool, persistent: bool, serde: Any, cache_bytes: int, step: int,
         monkeypatch: Any) -> Any:
    if not fast:
        monkeypatch.setattr(MeteredTimestampedWindowStore, "_flushed_forwarder", lambda self, listener: None)
    sent: list[Any] = []
    sctx = StateStoreContext("app", "0_0", str(tmp_path / f"{fast}"), cache=ThreadCache(cache_bytes),
                             changelog_sender=lambda *rec: sent.append(rec))
    supplier = (persistent_timestamped_window_store("w", 3 * SIZE, SIZE) if persistent
                else in_memory_window_store("w", 3 * SIZE, SIZE))
    store = timestamped_window_store_builder(supplier, Serdes.String(), serde).with_caching_enabled().build()
    store.init(sctx, store)
    context = _Context(sctx)
    assert store.set_flush_listener(TimestampedCacheFlushListener(context), False)
    assert (store.wrapped._flushed_forwarder is not None) == fast
    rng = random.Random(3)
    long_values = isinstance(serde, LongSerde)
    t = 0
    for i in range(1500):
        t += rng.randrange(0, step)
        ts = max(0, t - rng.randrange(0, 40 * step)) if rng.random() < 0.3 else t
        start = ts - ts % SIZE
        headers = (("h", str(i % 3).encode()),) if i % 4 == 0 else ()
        sctx.record_context = RecordContext(ts, i, "in", 0, headers)
        key = f"k{rng.randrange(15)}"
        old = store.fetch(key, start)
        if long_values:
            value: Any = (old.value if old is not None else 0) + 1
        else:
            value = {"n": (old.value["n"] if old is not None else 0) + 1}
        store.put(key, ValueAndTimestamp(value, max(ts, old.timestamp if old is not None else ts)), start)
        if i % 200 == 199:
            store.flush()
    store.flush()
    stored = [(w.key, w.window.start, v) for w, v in store.all()]
    inner = store._innermost()
    stored.append((inner.observed_stream_time, getattr(inner, "expired_records", None)))
    store.close()
    monkeypatch.undo()
    return context.forwarded, sent, stored


@pytest.mark.parametrize("persistent", [True, False], ids=["rocksdb", "memory"])
@pytest.mark.parametrize("serde", [Serdes.Long(), Serdes.JSON()], ids=["long", "json"])
@pytest.mark.parametrize("cache_bytes", [10_000_000, 1_500], ids=["commits", "evictions"])
@pytest.mark.parametrize("step", [20, 300], ids=["one-segment", "expiring-segments"])
def test_forwarder_equals_listener(tmp_path: Any, persistent: bool, serde: Any, cache_bytes: int, step: int,
                                   monkeypatch: Any) -> None:
    """The listener path also writes the flush down the generic way (a (key, value, timestamp) list), so the
    changelog, the stored windows, stream time and expired-record counts compare the two write paths too."""
    fast = _run(tmp_path / "fast", True, persistent, serde, cache_bytes, step, monkeypatch)
    listener = _run(tmp_path / "listener", False, persistent, serde, cache_bytes, step, monkeypatch)
    assert fast == listener
    if persistent and step > 100:
        assert fast[2][-1][1] > 0  # some writes hit segments already expired
    forwarded = fast[0]
    assert len(forwarded) > 100
    assert any(f[13] for f in forwarded)  # some entries carried headers into their record context
    record_type, record, value_type, _new, old, is_latest, key_type, _k, window = forwarded[0][:9]
    assert record_type is Record and value_type is Change and key_type is Windowed and old is None and is_latest
    assert isinstance(window, TimeWindow) and window.end - window.start == SIZE
    assert record == Record(Windowed(record.key.key, window), Change(record.value.new_value, None, True),
                            record.timestamp, record.headers)
