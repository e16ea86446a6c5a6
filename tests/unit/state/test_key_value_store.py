"""One suite for every key-value backend and layering (Kafka's AbstractKeyValueStoreTest)."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams.errors import StateStoreError
from pystreams.serdes import Serdes
from pystreams.state import KeyValue, KeyValueStore

from tests.unit.state.helpers import BACKENDS, StoreRig

pytestmark = pytest.mark.unit


@pytest.fixture(params=[(b, c) for b in BACKENDS for c in (False, True)],
                ids=lambda p: f"{p[0]}-{'cached' if p[1] else 'uncached'}")
def rig(request: Any, tmp_path: Any) -> Any:
    backend, caching = request.param
    r = StoreRig(tmp_path, backend, caching=caching)
    yield r
    r.store.close()


def fill(store: KeyValueStore[str, str], *keys: str) -> None:
    for k in keys:
        store.put(k, k.upper())


def test_put_get_delete(rig: StoreRig) -> None:
    s = rig.store
    assert s.get("a") is None
    s.put("a", "1")
    assert s.get("a") == "1"
    s.put("a", "2")
    assert s.get("a") == "2"
    assert s.delete("a") == "2"
    assert s.get("a") is None
    assert s.delete("a") is None


def test_put_none_deletes(rig: StoreRig) -> None:
    rig.store.put("a", "1")
    rig.store.put("a", None)
    assert rig.store.get("a") is None
    assert list(rig.store.all()) == []


def test_put_if_absent(rig: StoreRig) -> None:
    s = rig.store
    assert s.put_if_absent("a", "1") is None
    assert s.put_if_absent("a", "2") == "1"
    assert s.get("a") == "1"


def test_put_all(rig: StoreRig) -> None:
    rig.store.put_all([("b", "2"), ("a", "1"), ("b", "3")])
    assert list(rig.store.all()) == [("a", "1"), ("b", "3")]


def test_none_key_refused(rig: StoreRig) -> None:
    with pytest.raises(StateStoreError, match="key cannot be None"):
        rig.store.put(None, "x")


def test_range_inclusive_in_byte_order(rig: StoreRig) -> None:
    fill(rig.store, "d", "b", "a", "c", "e")
    assert [kv.key for kv in rig.store.range("b", "d")] == ["b", "c", "d"]
    assert [kv.key for kv in rig.store.reverse_range("b", "d")] == ["d", "c", "b"]
    assert [kv.key for kv in rig.store.range(None, "b")] == ["a", "b"]
    assert [kv.key for kv in rig.store.range("d", None)] == ["d", "e"]
    assert [kv.key for kv in rig.store.reverse_range("d", None)] == ["e", "d"]
    assert list(rig.store.range("d", "b")) == []  # from > to: empty, like Kafka
    assert list(rig.store.reverse_range("d", "b")) == []
    assert [kv.key for kv in rig.store.range("bb", "cc")] == ["c"]


def test_all_and_reverse_all(rig: StoreRig) -> None:
    fill(rig.store, "b", "a", "c")
    assert list(rig.store.all()) == [KeyValue("a", "A"), KeyValue("b", "B"), KeyValue("c", "C")]
    assert [k for k, _ in rig.store.reverse_all()] == ["c", "b", "a"]


def test_byte_order_not_python_order(tmp_path: Any) -> None:
    # Long keys: negative numbers serialize with the sign bit set, so they sort AFTER positives in bytes
    for backend in BACKENDS:
        for caching in (False, True):
            r = StoreRig(tmp_path / f"{backend}{caching}", backend, caching=caching, key_serde=Serdes.Long())
            for k in (3, -1, 0, 256):
                r.store.put(k, "v")
            assert [kv.key for kv in r.store.all()] == [0, 3, 256, -1]
            r.store.close()


def test_prefix_scan(rig: StoreRig) -> None:
    fill(rig.store, "ab", "a", "abc", "b", "aa", "ac")
    keys = [kv.key for kv in rig.store.prefix_scan("ab", Serdes.String())]
    assert keys == ["ab", "abc"]
    assert list(rig.store.prefix_scan("z", Serdes.String())) == []


def test_approximate_num_entries(rig: StoreRig) -> None:
    fill(rig.store, "a", "b", "c")
    rig.store.flush()
    n = rig.store.approximate_num_entries()
    assert 1 <= n <= 6  # RocksDB estimates; in-memory is exact
    if rig.store.wrapped.innermost().persistent is False:
        assert n == 3


def test_iterator_peek_and_close(rig: StoreRig) -> None:
    fill(rig.store, "a", "b")
    with rig.store.all() as it:
        assert it.has_next() and it.peek_next_key() == "a"
        assert next(it) == ("a", "A")
        assert it.peek_next_key() == "b"
        it.close()
        assert not it.has_next()


def test_delete_during_iteration_is_safe(rig: StoreRig) -> None:
    fill(rig.store, "a", "b", "c")
    seen = []
    for kv in rig.store.all():
        seen.append(kv.key)
        rig.store.delete(kv.key)
    assert seen == ["a", "b", "c"]
    assert list(rig.store.all()) == []


def test_reads_see_unflushed_writes_and_deletes(rig: StoreRig) -> None:
    fill(rig.store, "a", "b")
    rig.store.flush()
    rig.store.delete("a")
    rig.store.put("c", "C")
    assert rig.store.get("a") is None
    assert [kv.key for kv in rig.store.all()] == ["b", "c"]
    assert [kv.key for kv in rig.store.reverse_all()] == ["c", "b"]
    rig.store.flush()
    assert [kv.key for kv in rig.store.all()] == ["b", "c"]


def test_closed_store_refuses_use(rig: StoreRig) -> None:
    rig.store.close()
    assert not rig.store.is_open()
    with pytest.raises(StateStoreError):
        rig.store.get("a")


def test_metrics_count_operations(rig: StoreRig) -> None:
    rig.store.put("a", "1")
    rig.store.get("a")
    rig.store.get("b")
    m = rig.store.metrics.as_dict()
    assert m["put-total"] == 1 and m["get-total"] == 2
