"""The record cache: dedup between flushes, flush order, eviction, flush listener, same results as uncached."""
from __future__ import annotations

import random
from typing import Any

import pytest

from pystreams.processor import Record
from pystreams.serdes import Serdes
from pystreams.state import Change, ValueAndTimestamp

from tests.unit.state.helpers import BACKENDS, StoreRig

pytestmark = pytest.mark.unit


def listen(r: StoreRig, send_old: bool = True) -> list[Record[Any, Any]]:
    got: list[Record[Any, Any]] = []
    assert r.store.set_flush_listener(got.append, send_old) is True
    return got


@pytest.mark.parametrize("backend", BACKENDS)
def test_dedup_and_flush_order_is_order_of_last_update(tmp_path: Any, backend: str) -> None:
    r = StoreRig(tmp_path, backend, caching=True, value_serde=Serdes.Long())
    got = listen(r)
    r.at(1)
    r.store.put("a", 1)
    r.at(2)
    r.store.put("b", 1)
    r.at(3)
    r.store.put("a", 2)
    assert got == [] and r.changelog == []  # nothing leaves the cache before a flush
    r.store.flush()
    assert got == [Record("b", Change(1, None), 2), Record("a", Change(2, None), 3)]
    assert [(c[1], c[3]) for c in r.changelog] == [(b"b", 2), (b"a", 3)]  # one changelog record per key
    r.at(4)
    r.store.put("a", 5)
    r.store.flush()
    assert got[-1] == Record("a", Change(5, 2), 4)  # old value read from the store below the cache


def test_old_values_only_when_asked(tmp_path: Any) -> None:
    r = StoreRig(tmp_path, "in_memory", caching=True)
    got = listen(r, send_old=False)
    r.store.put("a", "1")
    r.store.flush()
    r.store.put("a", "2")
    r.store.flush()
    assert [rec.value for rec in got] == [Change("1", None), Change("2", None)]


def test_delete_of_absent_key_is_not_forwarded(tmp_path: Any) -> None:
    r = StoreRig(tmp_path, "in_memory", caching=True)
    got = listen(r)
    r.store.put("a", "1")
    r.store.delete("a")
    r.store.flush()
    assert got == [] and r.changelog == []
    r.store.put("b", "1")
    r.store.flush()
    r.store.delete("b")
    r.store.flush()
    assert got[-1].value == Change(None, "1")
    assert r.changelog[-1][2] is None


def test_timestamped_listener_gets_value_and_timestamp(tmp_path: Any) -> None:
    r = StoreRig(tmp_path, "rocksdb", caching=True, timestamped=True)
    got = listen(r)
    r.at(9)
    r.store.put("k", ValueAndTimestamp("v", 9))
    r.store.flush()
    assert got == [Record("k", Change(ValueAndTimestamp("v", 9), None), 9)]


def test_eviction_flushes_all_dirty_entries_evicted_first(tmp_path: Any) -> None:
    # each entry costs len(key) + 24 + 21 + len(value) bytes; room for about two of them
    r = StoreRig(tmp_path, "in_memory", caching=True, cache_bytes=2 * (1 + 24 + 21 + 1) + 10)
    got = listen(r)
    r.store.put("a", "1")
    r.store.put("b", "2")
    assert got == []
    r.store.put("c", "3")  # over budget: LRU "a" is evicted and the whole dirty set flushes, a first
    assert [rec.key for rec in got] == ["a", "b", "c"]
    assert r.store.get("a") == "1"  # read back from the store below


def test_caching_disabled_has_no_listener(tmp_path: Any) -> None:
    r = StoreRig(tmp_path, "in_memory", caching=False)
    assert r.store.set_flush_listener(lambda rec: None, True) is False


@pytest.mark.parametrize("backend", BACKENDS)
def test_cached_and_uncached_stores_end_equal(tmp_path: Any, backend: str) -> None:
    rnd = random.Random(11)
    ops = [(rnd.choice("pdi"), f"k{rnd.randrange(30)}", f"v{i}") for i in range(400)]
    results = []
    for caching, cache_bytes in ((False, 0), (True, 10_000_000), (True, 600)):
        r = StoreRig(tmp_path / f"{caching}{cache_bytes}", backend, caching=caching, cache_bytes=cache_bytes)
        for i, (op, k, v) in enumerate(ops):
            if op == "p":
                r.store.put(k, v)
            elif op == "d":
                r.store.delete(k)
            else:
                r.store.put_if_absent(k, v)
            if i % 50 == 0:
                r.store.flush()
        view = list(r.store.all())
        r.store.flush()
        inner = r.store.wrapped.innermost()
        stored = [(k.decode(), v.decode()) for k, v in inner.all()]
        results.append((view, stored))
        r.store.close()
    assert results[0][0] == results[1][0] == results[2][0]
    assert results[0][1] == results[1][1] == results[2][1] == results[0][0]
