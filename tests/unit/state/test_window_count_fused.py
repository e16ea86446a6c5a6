"""The window store's fused count update (window_updater(..., counting=True): adds one without calling count()'s
functions, rewrites the cached entry in place) gives exactly what fetch() then put() give with count()'s functions:
the same store contents, changelog records, cache entries (order, record context, held values), metrics and
evictions, with late records, windows read back from RocksDB after a flush or eviction and cached deletes."""
from __future__ import annotations

import random
from typing import Any

import pytest

from pystreams.compiler.processors.stateful.stream_aggregate import count_aggregator, count_initializer
from pystreams.serdes import Serdes
from pystreams.state import ValueAndTimestamp
from pystreams.state.context import StateStoreContext
from pystreams.state.internals.cache import NO_TYPED, ThreadCache
from pystreams.state.window import (in_memory_window_store, persistent_timestamped_window_store,
                                    timestamped_window_store_builder)

pytestmark = pytest.mark.unit

SIZE = 1000


def _run(tmp_path: Any, mode: str, cache_bytes: int, value_serde: Any, store_kind: str = "rocksdb") -> Any:
    sent: list[Any] = []
    ctx = StateStoreContext("app", "0_0", str(tmp_path / mode), cache=ThreadCache(cache_bytes),
                            changelog_sender=lambda *rec: sent.append(rec))
    supplier = (in_memory_window_store("w", 5 * SIZE, SIZE) if store_kind == "in_memory"
                else persistent_timestamped_window_store("w", 5 * SIZE, SIZE))
    builder = timestamped_window_store_builder(supplier, Serdes.String(), value_serde).with_caching_enabled()
    if store_kind == "unlogged":
        builder.with_logging_disabled()
    store = builder.build()
    store.init(ctx, store)
    update = store.window_updater(count_initializer, count_aggregator, mode != "plain",
                                  tumbling=mode == "counting")
    rng = random.Random(11)
    snapshots = []
    for i in range(3000):
        t = i * 7 - rng.randrange(0, 3 * SIZE)  # late records: older windows, older timestamps
        if t < 0:
            continue
        rc = ctx.record_context
        rc.timestamp, rc.offset, rc.topic, rc.partition = t, i, "in", 0
        rc.headers = () if i % 3 else (("h", b"x" * (i % 5)),)  # entries change size with the headers
        key, start = f"k{rng.randrange(30)}", t - t % SIZE
        if i % 97 == 0:  # a cached delete: the next count of that window starts again at 1
            store.put(key, None, start)
        elif mode == "plain":
            old = store.fetch(key, start)
            ts = t if old is None or old.timestamp <= t else old.timestamp
            agg = count_aggregator(key, "v", count_initializer() if old is None else old.value)
            store.put(key, ValueAndTimestamp(agg, ts), start)
        else:
            update(key, start, "v", t)
        if i % 500 == 0:
            named = store._caching._named
            for e in named.entries.values():
                assert e.typed is NO_TYPED or e.typed == store._value(e.value)
            snapshots.append([(k, e.value, e.timestamp, e.offset, e.headers, e.dirty, e.size) for k, e in
                              named.entries.items()] + [list(named.dirty), named.size])
        if i % 1000 == 999:
            store.flush()
    store.flush()
    final = [(w.key, w.window.start, v) for w, v in store.all()]
    metrics = (store.puts, store.fetches)
    store.close()
    return final, sent, snapshots, metrics


@pytest.mark.parametrize("store_kind", ["rocksdb", "in_memory", "unlogged"])
@pytest.mark.parametrize("cache_bytes", [10_000_000, 3_000], ids=["large_cache", "evicting"])
@pytest.mark.parametrize("serde", ["long", "json"])
def test_counting_update_equals_fetch_then_put(tmp_path: Any, cache_bytes: int, serde: str, store_kind: str) -> None:
    value_serde = Serdes.Long() if serde == "long" else Serdes.JSON()
    counting = _run(tmp_path, "counting", cache_bytes, value_serde, store_kind)
    plain = _run(tmp_path, "plain", cache_bytes, value_serde, store_kind)
    assert counting == plain
    assert _run(tmp_path, "counting_no_memo", cache_bytes, value_serde, store_kind) == plain
    final, sent, _snapshots, (puts, fetches) = counting
    assert final and fetches > 2500 and puts > fetches  # the deletes are puts without a fetch
    assert max(v.value for _k, _s, v in final) > 3  # windows counted past the cache's first value
    if store_kind == "unlogged":
        assert not sent
    elif cache_bytes < 10_000:
        assert len(sent) > 1500  # evictions wrote changelog records between the flushes


def test_counting_update_calls_no_user_function(tmp_path: Any) -> None:
    """counting=True is the processor's promise that the functions are count()'s: they are never called."""
    ctx = StateStoreContext("app", "0_0", str(tmp_path), cache=ThreadCache(10_000_000))
    store = timestamped_window_store_builder(persistent_timestamped_window_store("w", 5 * SIZE, SIZE),
                                             Serdes.String(), Serdes.Long()).with_caching_enabled().build()
    store.init(ctx, store)

    def fail(*_args: Any) -> Any:
        raise AssertionError("called")

    update = store.window_updater(fail, fail, True)
    ctx.record_context.timestamp = 5
    for t in (5, 6, 3):
        update("k", 0, "v", t)
    assert store.fetch("k", 0) == ValueAndTimestamp(3, 6)
    store.close()


@pytest.mark.parametrize("kept", [7, 16384], ids=["tiny_memo", "default_memo"])
def test_cache_key_memo_gives_the_serialized_keys(tmp_path: Any, monkeypatch: Any, kept: int) -> None:
    """The memo of each String key's cache key in its last window gives the bytes the serde gives, also when keys
    move between windows (late records) and the memo is cleared, for str subclasses and for keys the fast encoder
    refuses (lone surrogates: the serde's replacement bytes)."""
    from pystreams.state.window import window_aggregate

    monkeypatch.setattr(window_aggregate, "_KEYS_KEPT", kept)

    class Word(str):
        pass

    keys: list[Any] = [f"k{i}" for i in range(20)] + [Word("k3"), "\ud800x", "é"]
    results = []
    for counting in (True, False):
        ctx = StateStoreContext("app", "0_0", str(tmp_path / str(counting)), cache=ThreadCache(10_000_000))
        store = timestamped_window_store_builder(persistent_timestamped_window_store("w", 50 * SIZE, SIZE),
                                                 Serdes.String(), Serdes.Long()).with_caching_enabled().build()
        store.init(ctx, store)
        update = store.window_updater(count_initializer, count_aggregator, counting, tumbling=True)
        rng = random.Random(3)
        k3 = 0
        for _ in range(2000):
            key, start = rng.choice(keys), SIZE * rng.randrange(12)
            k3 += key == "k3"
            ctx.record_context.timestamp = start + 1
            if counting:
                update(key, start, "v", start + 1)
            else:
                old = store.fetch(key, start)
                store.put(key, ValueAndTimestamp(1 if old is None else old.value + 1, start + 1), start)
        results.append((sorted(store._caching._named.entries), [(w.key, w.window.start, v) for w, v in store.all()]))
        store.close()
    assert results[0] == results[1]
    assert sum(v.value for _k, _s, v in results[0][1]) == 2000
    assert sum(v.value for k, _s, v in results[0][1] if k == "k3") == k3  # "k3" and Word("k3"): one key
    assert k3 > 100
