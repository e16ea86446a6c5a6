"""Change-logging layer output (Kafka's format) and restore: replaying the changelog rebuilds the store."""
from __future__ import annotations

import random
import struct
from typing import Any

import pytest

from pystreams.serdes import Serdes
from pystreams.state import ValueAndTimestamp
from pystreams.state.internals.rocksdb import RocksDBStore

from tests.unit.state.helpers import BACKENDS, StoreRig

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("backend", BACKENDS)
def test_changelog_records_key_value_timestamp_and_tombstones(tmp_path: Any, backend: str) -> None:
    r = StoreRig(tmp_path, backend, value_serde=Serdes.Long())
    r.at(100)
    r.store.put("a", 1)
    r.at(200)
    r.store.delete("a")
    r.store.put_if_absent("b", 2)
    r.store.put_if_absent("b", 3)  # present: not logged
    assert r.changelog == [
        ("app-store-changelog", b"a", struct.pack(">q", 1), 100, 0),
        ("app-store-changelog", b"a", None, 200, 0),
        ("app-store-changelog", b"b", struct.pack(">q", 2), 200, 0),
    ]


def test_timestamped_store_format_and_changelog(tmp_path: Any) -> None:
    r = StoreRig(tmp_path, "rocksdb", timestamped=True, value_serde=Serdes.String())
    r.at(7)
    r.store.put("k", ValueAndTimestamp("v", 42))
    inner = r.store.wrapped.innermost()
    assert inner.get(b"k") == struct.pack(">q", 42) + b"v"  # Kafka: 8-byte BE timestamp + value
    # the changelog carries the plain value, with the stored timestamp as record timestamp
    assert r.changelog == [("app-store-changelog", b"k", b"v", 42, 0)]
    assert r.store.get("k") == ValueAndTimestamp("v", 42)
    r.store.put("k", None)
    assert r.changelog[-1] == ("app-store-changelog", b"k", None, 7, 0)


def test_timestamped_store_refuses_plain_values(tmp_path: Any) -> None:
    r = StoreRig(tmp_path, "in_memory", timestamped=True)
    with pytest.raises(Exception, match="ValueAndTimestamp"):
        r.store.put("k", "v")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("timestamped", [False, True])
def test_replaying_changelog_restores_exactly(tmp_path: Any, backend: str, timestamped: bool) -> None:
    rnd = random.Random(4)
    src = StoreRig(tmp_path / "src", backend, timestamped=timestamped)
    for i in range(300):
        src.at(i)
        key = f"k{rnd.randrange(40)}"
        if rnd.random() < 0.2:
            src.store.delete(key)
        else:
            v = f"v{i}"
            src.store.put(key, ValueAndTimestamp(v, i) if timestamped else v)
    expected = list(src.store.all())
    dst = StoreRig(tmp_path / "dst", backend, timestamped=timestamped)
    dst.context.restore("store", src.restore_records())
    assert list(dst.store.all()) == expected
    assert dst.store.metrics.restore == len(src.changelog)


def test_rocksdb_restore_keeps_offset_in_same_batch(tmp_path: Any) -> None:
    src = StoreRig(tmp_path / "src", "rocksdb")
    for i in range(5):
        src.store.put(f"k{i}", "v")
    dst = StoreRig(tmp_path / "dst", "rocksdb")
    inner: RocksDBStore = dst.store.wrapped.innermost()
    assert inner.changelog_offset() is None
    dst.context.restore("store", src.restore_records())
    assert inner.changelog_offset() == 4
    path = inner.path
    dst.store.close()
    reopened = RocksDBStore("store")
    reopened.open(path)  # type: ignore[arg-type]
    assert reopened.changelog_offset() == 4 and reopened.get(b"k3") == b"v"
    reopened.close()


def test_rocksdb_reopen_keeps_data(tmp_path: Any) -> None:
    r = StoreRig(tmp_path, "rocksdb", caching=True)
    r.store.put("a", "1")
    r.store.put("b", "2")
    r.store.delete("b")
    r.store.close()  # closing flushes the cache down to RocksDB
    again = StoreRig(tmp_path, "rocksdb", caching=True)
    assert list(again.store.all()) == [("a", "1")]
    again.store.close()


def test_in_memory_store_forgets_on_close(tmp_path: Any) -> None:
    r = StoreRig(tmp_path, "in_memory")
    r.store.put("a", "1")
    r.store.close()
    assert list(StoreRig(tmp_path, "in_memory").store.all()) == []


def test_logging_disabled_sends_nothing(tmp_path: Any) -> None:
    r = StoreRig(tmp_path, "in_memory", logging=False)
    r.store.put("a", "1")
    assert r.changelog == []


def test_rocksdb_iterator_fails_after_its_store_closed(tmp_path: Any) -> None:
    r = StoreRig(tmp_path, "rocksdb")
    for k in ("a", "b", "c"):
        r.store.put(k, "v")
    it = r.store.all()
    assert next(it).key == "a"
    r.store.close()
    with pytest.raises(Exception, match="iterator for store store has closed"):
        next(it)
