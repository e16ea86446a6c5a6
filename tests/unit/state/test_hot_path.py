"""The per-record fast path of cached stores gives the results of the plain byte path: deserialized values held in
the record cache only where they read back equal, the last key's bytes reused only for immutable keys, and a
flush written as one batch (changelog records, then one put_all / WriteBatch per segment)."""
from __future__ import annotations

import random
from typing import Any

import pytest

from pystreams.serdes import Serdes
from pystreams.state import ValueAndTimestamp
from pystreams.state.context import StateStoreContext
from pystreams.state.internals.cache import NO_TYPED, ThreadCache
from pystreams.state.window import persistent_timestamped_window_store, timestamped_window_store_builder
from pystreams.state.window.keys import to_store_key
from pystreams.state.window.segmented import RocksDBSegmentedWindowStore

from tests.unit.state.helpers import BACKENDS, StoreRig

pytestmark = pytest.mark.unit


def _entry(r: StoreRig, raw_key: bytes) -> Any:
    return r.store._caching._named.entries[raw_key]


@pytest.mark.parametrize("backend", BACKENDS)
def test_long_values_are_cached_deserialized_and_read_back_equal(tmp_path: Any, backend: str) -> None:
    r = StoreRig(tmp_path, backend, caching=True, timestamped=True, value_serde=Serdes.Long())
    r.at(5)
    r.store.put("a", ValueAndTimestamp(41, 5))
    assert _entry(r, b"a").typed == ValueAndTimestamp(41, 5)
    assert r.store.get("a") == ValueAndTimestamp(41, 5)
    r.store.flush()
    # the bytes below the cache are the same a plain byte path writes: 8-byte timestamp + Long
    assert r.store.wrapped.wrapped.get(b"a") == (5).to_bytes(8, "big") + (41).to_bytes(8, "big")
    assert r.changelog[-1][1:4] == (b"a", (41).to_bytes(8, "big"), 5)


@pytest.mark.parametrize("serde", [Serdes.String(), Serdes.JSON()], ids=["string", "json"])
def test_other_serdes_keep_values_as_bytes_only(tmp_path: Any, serde: Any) -> None:
    r = StoreRig(tmp_path, "in_memory", caching=True, value_serde=serde)
    r.store.put("a", "x")
    assert _entry(r, b"a").typed is NO_TYPED
    assert r.store.get("a") == "x"
    assert _entry(r, b"a").typed is NO_TYPED


def test_a_mutated_read_does_not_change_the_stored_value(tmp_path: Any) -> None:
    r = StoreRig(tmp_path, "in_memory", caching=True, value_serde=Serdes.JSON())
    r.store.put("a", {"n": 1})
    got = r.store.get("a")
    got["n"] = 99  # the caller owns what it read, as with Kafka's deserialized copies
    assert r.store.get("a") == {"n": 1}


def test_a_mutable_key_is_serialized_again_after_a_change(tmp_path: Any) -> None:
    r = StoreRig(tmp_path, "in_memory", caching=True, key_serde=Serdes.JSON(), value_serde=Serdes.Long())
    key = ["a"]
    r.store.put(key, 1)
    key.append("b")
    r.store.put(key, 2)
    assert r.store.get(["a"]) == 1 and r.store.get(["a", "b"]) == 2


def test_reopened_store_reads_the_flushed_value_through_the_serde(tmp_path: Any) -> None:
    r = StoreRig(tmp_path, "rocksdb", caching=True, value_serde=Serdes.Long())
    r.store.put("a", 7)
    r.store.close()
    again = StoreRig(tmp_path, "rocksdb", caching=True, value_serde=Serdes.Long())
    assert again.store.get("a") == 7
    assert _entry(again, b"a").typed == 7  # read from the store once, then held deserialized
    again.store.close()


def test_flush_writes_one_batch_and_no_single_puts(tmp_path: Any) -> None:
    r = StoreRig(tmp_path, "rocksdb", caching=True, value_serde=Serdes.Long())
    inner = r.store.wrapped.innermost()
    calls: list[str] = []
    put_all, put = inner.put_all, inner.put
    inner.put_all = lambda entries: (calls.append("put_all"), put_all(entries))[1]
    inner.put = lambda k, v: (calls.append("put"), put(k, v))[1]
    for i in range(50):
        r.at(i)
        r.store.put(f"k{i % 10}", i)
    r.store.flush()
    assert calls == ["put_all"]
    assert [(c[1], c[3]) for c in r.changelog] == [(f"k{i}".encode(), 40 + i) for i in range(10)]
    assert r.store.get("k3") == 43


def test_window_flush_batch_equals_puts_one_by_one(tmp_path: Any) -> None:
    """write_flushed advances stream time and drops expired entries exactly as put() one by one does."""
    rng = random.Random(3)
    writes = []
    for _ in range(400):
        start = rng.randrange(0, 20) * 100
        value = None if rng.random() < 0.1 else rng.randbytes(3)
        writes.append((to_store_key(f"k{rng.randrange(5)}".encode(), start, 0), value, start))
    stores = []
    for name, batched in (("one", False), ("batch", True)):
        store = RocksDBSegmentedWindowStore(name, retention_ms=500, segment_interval_ms=200, window_size_ms=100,
                                            retain_duplicates=False)
        store.init(StateStoreContext("app", "0_0", str(tmp_path)), store)
        if batched:
            for i in range(0, len(writes), 37):
                store.write_flushed(writes[i:i + 37])
        else:
            for store_key, value, start in writes:
                store._put_raw(store_key, value, start)
        stores.append(store)
    one, batch = stores
    assert batch.observed_stream_time == one.observed_stream_time
    assert batch.expired_records == one.expired_records > 0
    assert sorted(batch._segments) == sorted(one._segments)
    assert list(batch.all()) == list(one.all())
    for store in stores:
        store.close()


def test_cached_window_counts_match_uncached(tmp_path: Any) -> None:
    def run(caching: bool) -> tuple[list[Any], list[Any]]:
        sent: list[Any] = []
        ctx = StateStoreContext("app", "0_0", str(tmp_path / str(caching)), cache=ThreadCache(10_000),
                                changelog_sender=lambda *rec: sent.append(rec))
        builder = timestamped_window_store_builder(persistent_timestamped_window_store("w", 60_000, 1000),
                                                   Serdes.String(), Serdes.Long())
        builder.with_caching_enabled() if caching else builder.with_caching_disabled()
        store = builder.build()
        store.init(ctx, store)
        rng = random.Random(9)
        for t in range(0, 30_000, 10):
            ctx.record_context.timestamp = t
            key, start = f"k{rng.randrange(40)}", t - t % 1000
            old = store.fetch(key, start)
            store.put(key, ValueAndTimestamp(1 if old is None else old.value + 1, t), start)
        store.flush()
        final = [(w.key, w.window.start, v) for w, v in store.all()]
        store.close()
        last: dict[bytes, Any] = {}
        for _topic, key, value, ts, *_ in sent:
            last[key] = (value, ts)
        return final, sorted(last.items())
    assert run(True) == run(False)


@pytest.mark.parametrize("key", ["plain", "ünïcødé ✓", "lone \ud800 surrogate", ""])
def test_string_keys_get_the_serdes_bytes(tmp_path: Any, key: str) -> None:
    r = StoreRig(tmp_path, "in_memory", caching=True, key_serde=Serdes.String(), value_serde=Serdes.Long())
    r.store.put(key, 1)
    r.store.flush()
    assert r.changelog[-1][1] == Serdes.String().serialize("t", key)


def test_a_key_the_serde_refuses_gets_the_serdes_error(tmp_path: Any) -> None:
    from pystreams.serdes.base import SerializationError

    r = StoreRig(tmp_path, "in_memory", caching=True, key_serde=Serdes.String(), value_serde=Serdes.Long())
    with pytest.raises(SerializationError, match="StringSerde cannot serialize int"):
        r.store.put(5, 1)


def test_window_keys_read_back_as_the_serde_reads_them(tmp_path: Any) -> None:
    """Stored key bytes that are not valid UTF-8 read back with Java's replacement character, as the serde does."""
    ctx = StateStoreContext("app", "0_0", str(tmp_path), cache=ThreadCache(10_000))
    builder = timestamped_window_store_builder(persistent_timestamped_window_store("w", 60_000, 1000),
                                               Serdes.String(), Serdes.Long())
    store = builder.build()
    store.init(ctx, store)
    store.put("ok", ValueAndTimestamp(1, 5), 0)
    store.put("ok", ValueAndTimestamp(2, 5), 1000)
    store.flush()
    store._innermost().put(b"bad\xff", (5).to_bytes(8, "big") + (3).to_bytes(8, "big"), 0)
    got = [(w.key, w.window.start, w.window.end, v.value) for w, v in store.all()]
    assert got == [("bad\ufffd", 0, 1000, 3), ("ok", 0, 1000, 1), ("ok", 1000, 2000, 2)]
    assert got == [(Serdes.String().deserialize("t", k), s, e, v) for k, s, e, v in
                   [(b"bad\xff", 0, 1000, 3), (b"ok", 0, 1000, 1), (b"ok", 1000, 2000, 2)]]
    store.close()


def test_kv_keys_read_back_as_the_serde_reads_them(tmp_path: Any) -> None:
    r = StoreRig(tmp_path, "rocksdb", caching=True, key_serde=Serdes.String(), value_serde=Serdes.Long())
    got: list[Any] = []
    r.store.set_flush_listener(got.append, False)
    r.context.restore("store", [(b"bad\xff", (1).to_bytes(8, "big"), 0, 0)])
    r.store.put("ok", 2)
    r.store.flush()
    assert [(kv.key, kv.value) for kv in r.store.all()] == [("bad\ufffd", 1), ("ok", 2)]
    assert [(rec.key, rec.value.new_value) for rec in got] == [("ok", 2)]
