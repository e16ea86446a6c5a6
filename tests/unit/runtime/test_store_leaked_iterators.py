"""Iterators user code leaves open, as Kafka counts and closes them: num-open-iterators (DEBUG) counts them while the
store is open, like Kafka's MeteredKeyValueIterator (only close() discounts one); the RocksDB store's close closes
them with Kafka's warning "Closing N open iterators for store X" (RocksDBStore.closeOpenIterators), so its directory
can be opened again at once (a leaked RocksDB iterator kept the DB, and its LOCK, open) and a leaked iterator read
after the close fails as any iterator that outlived its store; the reopened store counts from zero."""
from __future__ import annotations

import gc
import logging
from typing import Any

import pytest

from pystreams.errors import StateStoreError
from pystreams.serdes import Serdes
from pystreams.state import Stores
from tests.unit.runtime.test_store_metrics import _context, _store

pytestmark = pytest.mark.unit


def test_a_stores_close_closes_the_iterators_its_users_left_open(tmp_path: Any,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    backend = "rocksdb"
    caplog.set_level(logging.WARNING, logger="pystreams.state")
    store, _ = _store(tmp_path, "DEBUG", backend)
    for key in "abc":
        store.put(key, key)
    leaked = store.all()
    assert next(leaked) == ("a", "a")  # read part of the way, then abandoned
    store.range("a", "b")  # never read, never closed, dropped at once
    gc.collect()
    done = store.all()
    assert len(list(done)) == 3  # ran out: closed by itself
    assert store.sensors.values()["num-open-iterators"] == 2  # Kafka: counted until closed, dropped ones too
    store.close()
    # opened again at once (the task back on this thread): the leaked iterator holds nothing any more
    reopened, _ = _store(tmp_path, "DEBUG", backend)
    assert reopened.sensors.values()["num-open-iterators"] == 0
    assert reopened.get("c") == "c"
    reopened.close()
    assert [r.getMessage() for r in caplog.records if "open iterators" in r.getMessage()] == [
        "Closing 1 open iterators for store counts"]  # the dropped one went with its last reference
    with pytest.raises(StateStoreError, match="RocksDB iterator for store counts has closed"):
        next(leaked)


def test_a_store_closed_with_no_iterator_open_warns_about_nothing(tmp_path: Any,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="pystreams.state")
    store, _ = _store(tmp_path, "INFO", "rocksdb")
    store.put("a", "a")
    with store.all() as it:
        assert list(it) == [("a", "a")]
    store.close()
    assert not [r for r in caplog.records if "open iterators" in r.getMessage()]


def test_a_window_stores_close_closes_the_fetches_its_users_left_open(tmp_path: Any,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="pystreams.state")

    def window_store() -> Any:
        store = Stores.window_store_builder(Stores.persistent_window_store("win", 60_000, 1_000), Serdes.String(),
                                            Serdes.String()).with_caching_disabled().build()
        store.init(_context(tmp_path, "DEBUG"), store)
        return store

    store = window_store()
    for t in (0, 1_000, 2_000):
        store.put("a", str(t), t)
    leaked = store.fetch("a", 0, 5_000)
    assert next(leaked)[1] == "0"  # read part of the way, then abandoned
    store.close()
    reopened = window_store()  # at once, in this process
    assert [v for _start, v in reopened.fetch("a", 0, 5_000)] == ["0", "1000", "2000"]
    reopened.close()
    assert [r.getMessage() for r in caplog.records if "open iterators" in r.getMessage()] == [
        "Closing 1 open iterators for store win"]
    with pytest.raises(StateStoreError, match="RocksDB iterator for store win has closed"):
        next(leaked)
