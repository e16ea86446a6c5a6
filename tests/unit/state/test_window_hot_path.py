"""The window aggregate's fused per-record path (MeteredTimestampedWindowStore.aggregate_window) gives exactly what
fetch() then put() give: the same store contents, changelog records, cache entries (and their order, record
context and held values), metrics and evictions, for cached and uncached stores, Long and other value serdes,
late (out-of-order) records and aggregates that return None (deletes)."""
from __future__ import annotations

import random
from typing import Any, Callable

import pytest

from pystreams.serdes import Serdes
from pystreams.state import ValueAndTimestamp
from pystreams.state.context import StateStoreContext
from pystreams.state.internals.cache import NO_TYPED, ThreadCache
from pystreams.state.window.keys import to_store_key
from pystreams.state.window import (in_memory_window_store, persistent_timestamped_window_store,
                                    timestamped_window_store_builder)

pytestmark = pytest.mark.unit

SIZE = 1000


def _long_agg(key: Any, value: Any, agg: Any) -> Any:
    return None if value == 7 else agg + value  # None: the window is deleted


def _json_agg(key: Any, value: Any, agg: Any) -> Any:
    return None if value == 7 else {"n": agg["n"] + value, "last": key}


CASES: dict[str, tuple[Any, Callable[[], Any], Callable[[Any, Any, Any], Any]]] = {
    "long": (Serdes.Long(), lambda: 0, _long_agg),
    "json": (Serdes.JSON(), lambda: {"n": 0}, _json_agg),
}


def _run(tmp_path: Any, fused: bool, persistent: bool, caching: bool, case: str, cache_bytes: int) -> Any:
    serde, initializer, aggregator = CASES[case]
    sent: list[Any] = []
    ctx = StateStoreContext("app", "0_0", str(tmp_path / f"{fused}"), cache=ThreadCache(cache_bytes),
                            changelog_sender=lambda *rec: sent.append(rec))
    supplier = (persistent_timestamped_window_store("w", 5 * SIZE, SIZE) if persistent
                else in_memory_window_store("w", 5 * SIZE, SIZE))
    builder = timestamped_window_store_builder(supplier, Serdes.String(), serde)
    builder.with_caching_enabled() if caching else builder.with_caching_disabled()
    store = builder.build()
    store.init(ctx, store)
    rng = random.Random(5)
    snapshots = []
    for i in range(3000):
        t = i * 7 - rng.randrange(0, 3 * SIZE)  # late records: older windows, older timestamps
        if t < 0:
            continue
        rc = ctx.record_context
        rc.timestamp, rc.offset, rc.topic, rc.partition = t, i, "in", 0
        key, start, value = f"k{rng.randrange(30)}", t - t % SIZE, rng.randrange(10)
        if fused:
            store.aggregate_window(key, start, value, t, initializer, aggregator)
        else:  # what the processor did before, and still does without a record cache
            old = store.fetch(key, start)
            ts = t if old is None or old.timestamp <= t else old.timestamp
            agg = aggregator(key, value, initializer() if old is None else old.value)
            store.put(key, None if agg is None else ValueAndTimestamp(agg, ts), start)
        if caching and i % 500 == 0:
            named = store._caching._named
            # typed (the value an entry may hold deserialized) is an optimization: either none, or what the
            # bytes decode to
            for e in named.entries.values():
                assert e.typed is NO_TYPED or e.typed == store._value(e.value)
            snapshots.append([(k, e.value, e.timestamp, e.offset, e.dirty) for k, e in
                              named.entries.items()] + [list(named.dirty)])
        if i % 1000 == 999:
            store.flush()
    store.flush()
    final = [(w.key, w.window.start, v) for w, v in store.all()]
    metrics = (store.puts, store.fetches)
    store.close()
    return final, sent, snapshots, metrics


@pytest.mark.parametrize("persistent", [True, False], ids=["rocksdb", "in_memory"])
@pytest.mark.parametrize("caching", [True, False], ids=["cached", "uncached"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_fused_aggregate_equals_fetch_then_put(tmp_path: Any, persistent: bool, caching: bool, case: str) -> None:
    fused = _run(tmp_path / "a", True, persistent, caching, case, 10_000_000)
    plain = _run(tmp_path / "b", False, persistent, caching, case, 10_000_000)
    assert fused == plain
    final, sent, _snapshots, (puts, fetches) = fused
    assert final and sent and puts == fetches > 2000
    assert any(v is None for _t, _k, v, *_ in sent)  # deletes reached the changelog


@pytest.mark.parametrize("case", sorted(CASES))
def test_fused_aggregate_evicts_like_fetch_then_put(tmp_path: Any, case: str) -> None:
    """A cache too small for the working set: evictions flush the same entries at the same records."""
    fused = _run(tmp_path / "a", True, True, True, case, 2_000)
    plain = _run(tmp_path / "b", False, True, True, case, 2_000)
    assert fused == plain
    assert len(fused[1]) > 1000  # many more changelog records than commits would write: evictions happened


def _lru_after_failed_update(tmp_path: Any, fused: bool, fail: str) -> list[bytes]:
    ctx = StateStoreContext("app", "0_0", str(tmp_path / f"{fused}{fail}"), cache=ThreadCache(10_000_000))
    builder = timestamped_window_store_builder(persistent_timestamped_window_store("w", 5 * SIZE, SIZE),
                                               Serdes.String(), Serdes.JSON())
    builder.with_caching_enabled()
    store = builder.build()
    store.init(ctx, store)
    for key in ("a", "b", "c"):
        store.put(key, ValueAndTimestamp([key], 5), 0)

    def aggregator(key: Any, value: Any, agg: Any) -> Any:
        if fail == "aggregator":
            raise ValueError("user code failed")
        return object()  # the JSON serde cannot serialize it

    with pytest.raises(Exception):  # noqa: B017 - the user's or the serde's error, whichever failed
        if fused:
            store.aggregate_window("a", 0, 1, 5, list, aggregator)
        else:
            old = store.fetch("a", 0)
            store.put("a", ValueAndTimestamp(aggregator("a", 1, old.value), 5), 0)
    order = list(store._caching._named.entries)
    store.close()
    return order


@pytest.mark.parametrize("fail", ["aggregator", "serializer"])
def test_a_failed_update_leaves_the_cache_as_fetch_then_put_does(tmp_path: Any, fail: str) -> None:
    """The read moved the window's entry to the LRU end even though no write followed, as Kafka's get does."""
    fused = _lru_after_failed_update(tmp_path, True, fail)
    assert fused == _lru_after_failed_update(tmp_path, False, fail)
    assert fused[-1].endswith(b"a" + to_store_key(b"", 0, 0))
