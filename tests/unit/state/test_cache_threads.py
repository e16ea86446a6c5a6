"""Reads from a thread other than the stream thread (interactive queries) leave the record cache as it was: no fill
on a miss, no LRU move, no eviction, flush or forward, no pin; scans work on a snapshot. Key-value stores (audit F1;
Kafka's CachingKeyValueStore.getInternal fills the cache only on the stream thread)."""
from __future__ import annotations

import threading
from typing import Any

import pytest

from pystreams.serdes import Serdes
from pystreams.state.internals.cache import NO_TYPED
from pystreams.state.internals.cache_layer import CacheLayer

from tests.unit.state.cache_threads_support import named_of, on_thread, race, recount
from tests.unit.state.helpers import BACKENDS, StoreRig

pytestmark = pytest.mark.unit


def cache_state(r: StoreRig) -> tuple[Any, ...]:
    named = named_of(r)
    return (list(named.entries), list(named.dirty), named.size, r.cache.total, named.pinned,
            [(e.value, e.dirty, e.typed) for e in named.entries.values()], len(r.changelog))


def caching_layer(r: StoreRig) -> CacheLayer:
    layer = r.store._caching
    assert isinstance(layer, CacheLayer)
    return layer


@pytest.mark.parametrize("backend", BACKENDS)
def test_foreign_get_of_a_miss_neither_fills_nor_evicts_nor_forwards(tmp_path: Any, backend: str) -> None:
    # a cache of a few entries, full of dirty ones: a fill on the stream thread evicts and forwards
    r = StoreRig(tmp_path, backend, caching=True, value_serde=Serdes.Long(), cache_bytes=300)
    forwarded: list[tuple[Any, str]] = []
    r.store.set_flush_listener(lambda rec: forwarded.append((rec.key, threading.current_thread().name)), False)
    for i in range(20):
        r.store.put(f"k{i:02d}", i)
    r.store.flush()
    for i in range(3):
        r.store.put(f"d{i}", 100 + i)  # dirty again
    named = named_of(r)
    assert "k00".encode() not in named.entries and named.dirty  # k00 is only in the store; dirty entries wait
    before, n_forwarded = cache_state(r), len(forwarded)

    assert on_thread(lambda: [r.store.get(f"k{i:02d}") for i in range(20)]) == list(range(20))
    assert on_thread(lambda: r.store.get("absent")) is None
    assert cache_state(r) == before and len(forwarded) == n_forwarded
    assert r.cache.total == recount(r.cache)

    # the same reads on the stream thread (the store's init thread) do fill, evict and flush
    assert [r.store.get(f"k{i:02d}") for i in range(20)] == list(range(20))
    assert b"k19" in named.entries and not named.dirty
    assert {name for _k, name in forwarded[n_forwarded:]} == {threading.current_thread().name}


@pytest.mark.parametrize("backend", BACKENDS)
def test_foreign_get_of_a_hit_keeps_the_lru_order_and_the_shared_entry(tmp_path: Any, backend: str) -> None:
    r = StoreRig(tmp_path, backend, caching=True, value_serde=Serdes.Long())
    r.store.set_flush_listener(lambda rec: None, False)
    for i in range(5):
        r.store.put(f"k{i}", i)
    r.store.flush()
    for i in range(5):  # read in from the store: entries with no deserialized value kept yet
        named_of(r).delete(f"k{i}".encode())
        assert r.store.get(f"k{i}") == i
    named = named_of(r)
    for entry in named.entries.values():
        entry.typed = NO_TYPED
    before = cache_state(r)
    assert on_thread(lambda: r.store.get("k0")) == 0  # the eldest
    # not moved to the LRU end, and the metered layer kept its deserialized value in a copy, not in the entry
    assert cache_state(r) == before
    assert r.store.get("k0") == 0
    assert list(named.entries)[-1] == b"k0" and named.entries[b"k0"].typed == 0  # the stream thread's read did both


@pytest.mark.parametrize("backend", BACKENDS)
def test_foreign_scan_is_a_snapshot_that_does_not_pin(tmp_path: Any, backend: str) -> None:
    r = StoreRig(tmp_path, backend, caching=True, value_serde=Serdes.Long(), cache_bytes=2000)
    r.store.set_flush_listener(lambda rec: None, False)
    for i in range(0, 40, 2):
        r.store.put(f"k{i:02d}", i)
    expected = [(f"k{i:02d}", i) for i in range(0, 40, 2)]
    it = on_thread(lambda: r.store.all())  # opened on a foreign thread: the cache part is taken now
    named = named_of(r)
    assert named.pinned == 0
    # the stream thread goes on: in-place rewrites, new keys, evictions, a flush, a delete
    for i in range(40):
        r.store.put(f"k{i:02d}", 1000 + i)
    r.store.delete("k00")
    r.store.flush()
    got = on_thread(lambda: list(it))
    keys = [k for k, _v in got]
    assert keys == sorted(set(keys))
    # every key of the snapshot is there, none deleted since is lost; a value is the snapshot's or a newer one
    assert {k for k, _ in expected} <= set(keys)
    assert all(v in (i, 1000 + i) for k, v in got for i in [int(k[1:])])
    ranged = on_thread(lambda: list(r.store.range("k10", "k20")))
    assert ranged == [(f"k{i:02d}", 1000 + i) for i in range(10, 21)]
    assert on_thread(lambda: list(r.store.reverse_range("k10", "k12"))) == [("k12", 1012), ("k11", 1011), ("k10", 1010)]
    assert on_thread(lambda: [k for k, _ in r.store.prefix_scan("k3", Serdes.String().serializer())]) == [f"k{i}" for i in range(30, 40)]
    assert on_thread(lambda: r.store.get("k00")) is None
    # a stream-thread iterator pins the cache while open (its entries must not be rewritten in place)
    own = r.store.all()
    next(own)
    assert named.pinned == 1
    own.close()


def test_a_dirty_entry_being_evicted_is_seen_by_foreign_reads_until_it_is_in_the_store(tmp_path: Any) -> None:
    r = StoreRig(tmp_path, "rocksdb", caching=True, value_serde=Serdes.Long(), cache_bytes=250)
    r.store.set_flush_listener(lambda rec: None, False)
    r.store.put("a", 1)
    r.store.flush()  # the store holds a=1
    r.store.put("a", 2)  # the cache holds a=2, dirty, the eldest entry
    caching = caching_layer(r)
    below = caching.wrapped
    write_down = below.write_flushed
    seen: list[Any] = []

    def hooked(entries: list[Any]) -> None:  # the moment the eviction has taken `a` out of the cache's entries
        if not seen:
            seen.append((b"a" in named_of(r).entries, on_thread(lambda: r.store.get("a")),
                         on_thread(lambda: dict(r.store.all()).get("a"))))
        write_down(entries)

    below.write_flushed = hooked
    for i in range(10):
        r.store.put(f"new{i}", i)  # evicts `a`
    assert seen == [(False, 2, 2)]  # neither the stale stored 1 nor a missing key
    assert named_of(r).evicting == {}
    assert on_thread(lambda: r.store.get("a")) == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_foreign_reads_while_the_stream_thread_writes(tmp_path: Any, backend: str) -> None:
    """A real race: a foreign thread gets and scans while this thread counts into a small cache (constant
    evictions and flushes). No error on either side, counts only grow, the byte accounting stays exact."""
    r = StoreRig(tmp_path, backend, caching=True, value_serde=Serdes.Long(), cache_bytes=1500)
    forwarded_by: set[str] = set()
    r.store.set_flush_listener(lambda rec: forwarded_by.add(threading.current_thread().name), False)
    keys = [f"w{i:03d}" for i in range(200)]
    last: dict[str, int] = {}

    def read_pass() -> None:
        got = list(r.store.all())
        ks = [k for k, _ in got]
        assert ks == sorted(set(ks))
        for k, v in got:
            assert v >= last.get(k, 0), (k, v, last.get(k))
            last[k] = v
        assert set(last) <= {k for k, _ in got}  # a key once seen never disappears
        for k in keys[::17]:
            v = r.store.get(k)
            assert (v or 0) >= last.get(k, 0)
            if v is not None:
                last[k] = v

    truth: dict[str, int] = {}

    def write() -> None:
        for n in range(6000):
            k = keys[(n * 7919) % len(keys)]
            old = r.store.get(k)
            truth[k] = (old or 0) + 1
            r.store.put(k, truth[k])
            if n % 1000 == 999:
                r.store.flush()

    assert race(read_pass, write) > 0
    assert forwarded_by == {threading.current_thread().name}
    assert r.cache.total == recount(r.cache) == sum(n.size for n in r.cache.caches.values())
    assert dict(r.store.all()) == truth == dict(on_thread(lambda: list(r.store.all())))


def test_the_owner_is_the_thread_that_initialized_the_store(tmp_path: Any) -> None:
    rigs: list[StoreRig] = []

    def init_here() -> tuple[bool, bool]:
        rigs.append(StoreRig(tmp_path, "in_memory", caching=True, value_serde=Serdes.Long()))
        layer = caching_layer(rigs[0])
        # another thread while the owner lives (thread ids are unique among live threads only: a store is open
        # while the stream thread that initialized it runs)
        return layer.foreign_thread(), on_thread(layer.foreign_thread)

    assert on_thread(init_here) == (False, True)
    (r,) = rigs
    assert caching_layer(r).foreign_thread() is True  # this thread did not initialize it
    r.store.put("a", 1)  # writes are not refused (the stream thread writes; a foreign write is a caller's bug)
    assert r.store.get("a") == 1
