"""The stream aggregate's fused per-record path (MeteredTimestampedKeyValueStore.updater) gives exactly what get()
then put() give: the same store contents, changelog records, cache entries (their order, record context, sizes and
held values), dirty order, metrics and evictions, for cached and uncached stores, RocksDB and in-memory, Long and
other value serdes, late (out-of-order) records, no initializer (reduce), aggregates that return None (deletes) and
record contexts whose topic or headers change between writes of a key."""
from __future__ import annotations

import random
from typing import Any, Callable

import pytest

from pystreams.compiler.processors.stateful.stream_aggregate import count_aggregator, count_initializer
from pystreams.serdes import Serdes
from pystreams.state import Stores, ValueAndTimestamp
from pystreams.state.context import StateStoreContext
from pystreams.state.internals.cache import CacheEntry, ThreadCache

pytestmark = pytest.mark.unit


def _long_agg(key: Any, value: Any, agg: Any) -> Any:
    return None if value == 7 else agg + value  # None: the key is deleted


def _json_agg(key: Any, value: Any, agg: Any) -> Any:
    return None if value == 7 else {"n": agg["n"] + value, "last": key}


def _reduce(key: Any, value: Any, agg: Any) -> Any:  # KStreamReduce's shape: no initializer, first value wins
    return value if agg is None else (None if value == 7 else agg + value)


CASES: dict[str, tuple[Any, Callable[[], Any] | None, Callable[[Any, Any, Any], Any]]] = {
    "count": (Serdes.Long(), count_initializer, count_aggregator),  # updater(counting=True): no calls
    "long": (Serdes.Long(), lambda: 0, _long_agg),
    "json": (Serdes.JSON(), lambda: {"n": 0}, _json_agg),
    "reduce": (Serdes.Long(), None, _reduce),
}


def _held(typed: Any) -> Any:
    """A cache entry's held value in one form: the updater holds (value, timestamp), put() a ValueAndTimestamp."""
    return ValueAndTimestamp(*typed) if type(typed) is tuple else typed


def _store(tmp_path: Any, name: str, persistent: bool, caching: bool, serde: Any, cache_bytes: int) -> Any:
    sent: list[Any] = []
    ctx = StateStoreContext("app", "0_0", str(tmp_path / name), cache=ThreadCache(cache_bytes),
                            changelog_sender=lambda *rec: sent.append(rec))
    supplier = (Stores.persistent_timestamped_key_value_store("kv") if persistent
                else Stores.in_memory_key_value_store("kv"))
    builder = Stores.timestamped_key_value_store_builder(supplier, Serdes.String(), serde)
    builder.with_caching_enabled() if caching else builder.with_caching_disabled()
    store = builder.build()
    store.init(ctx, store)
    return store, ctx, sent


def _run(tmp_path: Any, fused: bool, persistent: bool, caching: bool, case: str, cache_bytes: int) -> Any:
    serde, initializer, aggregator = CASES[case]
    store, ctx, sent = _store(tmp_path, f"{fused}", persistent, caching, serde, cache_bytes)
    update = store.updater(initializer, aggregator, case == "count")
    rng = random.Random(11)
    snapshots = []
    for i in range(3000):
        t = 10 * i - rng.randrange(0, 500)  # late records: older than the aggregate's timestamp
        rc = ctx.record_context
        rc.timestamp, rc.offset, rc.partition = t, i, 0
        rc.topic = "in" if i % 97 else "other-topic"  # a changed topic changes an entry's size
        rc.headers = () if i % 89 else (("h", b"x" * (i % 5)),)
        key, value = f"k{rng.randrange(40)}", rng.randrange(10)
        if fused:
            update(key, value, t)
        else:  # what the processor did before, and still does without a record cache
            old = store.get(key)
            ts = t if old is None or old.timestamp <= t else old.timestamp
            agg = aggregator(key, value, (None if initializer is None else initializer()) if old is None
                             else old.value)
            store.put(key, None if agg is None else ValueAndTimestamp(agg, ts))
        if caching and i % 250 == 0:
            named = store._caching._named
            snapshots.append([(k, e.value, e.timestamp, e.offset, e.topic, e.headers, e.dirty, e.size, _held(e.typed))
                              for k, e in named.entries.items()] + [list(named.dirty), named.size,
                                                                     ctx.cache.total])
        if i % 1000 == 999:
            store.flush()
    store.flush()
    final = [(kv.key, kv.value) for kv in store.all()]
    metrics = store.metrics.as_dict()
    store.close()
    return final, sent, snapshots, metrics


@pytest.mark.parametrize("persistent", [True, False], ids=["rocksdb", "in_memory"])
@pytest.mark.parametrize("caching", [True, False], ids=["cached", "uncached"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_fused_aggregate_equals_get_then_put(tmp_path: Any, persistent: bool, caching: bool, case: str) -> None:
    fused = _run(tmp_path / "a", True, persistent, caching, case, 10_000_000)
    plain = _run(tmp_path / "b", False, persistent, caching, case, 10_000_000)
    assert fused == plain
    final, sent, _snapshots, metrics = fused
    assert final and sent and metrics["put-total"] == metrics["get-total"] == 3000
    if case != "count":
        assert any(rec[2] is None for rec in sent)  # deletes reached the changelog
    assert all(type(v) is ValueAndTimestamp for _k, v in final)


@pytest.mark.parametrize("case", sorted(CASES))
def test_fused_aggregate_evicts_like_get_then_put(tmp_path: Any, case: str) -> None:
    """A cache too small for the working set: evictions flush the same entries at the same records."""
    fused = _run(tmp_path / "a", True, True, True, case, 1_500)
    plain = _run(tmp_path / "b", False, True, True, case, 1_500)
    assert fused == plain
    assert len(fused[1]) > 1000  # many more changelog records than commits would write: evictions happened


def test_fused_aggregate_reads_values_written_below_the_cache(tmp_path: Any) -> None:
    """A key in the store but not in the cache (after a flush and eviction) is read from the store."""
    store, _ctx, sent = _store(tmp_path, "x", True, True, Serdes.Long(), 10_000_000)
    store.put("a", ValueAndTimestamp(5, 100))
    store.flush()
    store._caching._named.delete(b"a")  # evicted: only RocksDB has it now
    store.updater(lambda: 0, _long_agg)("a", 1, 50)
    assert store.get("a") == ValueAndTimestamp(6, 100)  # the older record keeps the aggregate's timestamp
    store.flush()
    assert sent[-1][1:4] == (b"a", (6).to_bytes(8, "big"), 100)  # the changelog: plain value, its timestamp
    store.close()


def _lru_after_failed_update(tmp_path: Any, fused: bool, fail: str) -> list[bytes]:
    store, _ctx, _sent = _store(tmp_path, f"{fused}{fail}", True, True, Serdes.JSON(), 10_000_000)
    for key in ("a", "b", "c"):
        store.put(key, ValueAndTimestamp([key], 5))

    def aggregator(key: Any, value: Any, agg: Any) -> Any:
        if fail == "aggregator":
            raise ValueError("user code failed")
        return object()  # the JSON serde cannot serialize it

    with pytest.raises(Exception):  # noqa: B017 - the user's or the serde's error, whichever failed
        if fused:
            store.updater(list, aggregator)("a", 1, 5)
        else:
            old = store.get("a")
            store.put("a", ValueAndTimestamp(aggregator("a", 1, old.value), 5))
    order = list(store._caching._named.entries)
    metrics = store.metrics.as_dict()
    store.close()
    return order + [metrics["get-total"], metrics["put-total"]]  # type: ignore[list-item]


@pytest.mark.parametrize("fail", ["aggregator", "serializer"])
def test_a_failed_update_leaves_the_cache_as_get_then_put_does(tmp_path: Any, fail: str) -> None:
    """The read moved the key's entry to the LRU end even though no write followed, as Kafka's get does."""
    fused = _lru_after_failed_update(tmp_path, True, fail)
    assert fused == _lru_after_failed_update(tmp_path, False, fail)
    assert fused[2] == b"a"


def test_fused_value_is_a_plain_value_and_timestamp(tmp_path: Any) -> None:
    """The ValueAndTimestamp built without its __init__ is equal, hashes and prints like one built normally."""
    store, _ctx, _sent = _store(tmp_path, "v", False, True, Serdes.Long(), 10_000_000)
    store.updater(lambda: 0, _long_agg)("a", 1, 42)
    got = store.get("a")
    assert got == ValueAndTimestamp(1, 42) and hash(got) == hash(ValueAndTimestamp(1, 42))
    assert repr(got) == "ValueAndTimestamp(value=1, timestamp=42)"
    with pytest.raises(AttributeError):
        got.value = 2  # still frozen
    store.close()


class _Rc:
    __slots__ = ("timestamp", "offset", "topic", "partition", "headers")


def test_rewritten_entry_sizes_follow_value_topic_and_headers() -> None:
    """NamedCache.write() recomputes an entry's size only when the value's length, the topic or the headers
    change: sizes and byte totals stay those of a new entry per write (put), whatever changes."""
    a, b = ThreadCache(10_000_000), ThreadCache(10_000_000)
    na, nb = a.named_cache("0_0-s"), b.named_cache("0_0-s")
    rng = random.Random(3)
    rc = _Rc()
    for i in range(2000):
        rc.timestamp, rc.offset, rc.partition = i, i, 0
        rc.topic = rng.choice(["in", "in", "in", "input-2", None])
        rc.headers = rng.choice([(), (), (("h", b"v"),), (("h", None),)])
        key = b"k%d" % rng.randrange(20)
        value = rng.choice([b"x" * 8, b"y" * 8, b"z" * 12, None])
        na.write(key, value, rc, None)
        nb.put(key, CacheEntry(value, True, rc.timestamp, rc.offset, rc.topic, rc.partition, rc.headers, None))
        assert a.total == b.total and na.size == nb.size
    assert [(k, e.value, e.topic, e.headers, e.size, e.offset) for k, e in na.entries.items()] == \
        [(k, e.value, e.topic, e.headers, e.size, e.offset) for k, e in nb.entries.items()]
    assert list(na.dirty) == list(nb.dirty)


def test_an_update_function_outlives_neither_close_nor_a_new_init(tmp_path: Any) -> None:
    """A closed store's update raises like get(); after the store is initialized again (new cache, new named cache)
    an old update function still writes where get() reads."""
    store, ctx, _sent = _store(tmp_path, "r", True, True, Serdes.Long(), 10_000_000)
    update = store.updater(count_initializer, count_aggregator, True)
    update("a", "x", 1)
    store.close()
    with pytest.raises(Exception, match="not open|closed"):
        update("a", "x", 2)
    ctx2 = StateStoreContext("app", "0_0", str(tmp_path / "r"), cache=ThreadCache(10_000_000))
    store.init(ctx2, store)
    update("a", "x", 3)
    update("a", "x", 4)
    assert store.get("a") == ValueAndTimestamp(3, 4)  # 1 from before the close (flushed), 2 after the new init
    store.close()
