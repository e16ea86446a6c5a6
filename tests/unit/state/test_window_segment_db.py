"""Session segments' RocksDB (SegmentDB, also the reader of the window store's old one-DB-per-segment layout): new
segments without the metadata column family, segment directories written before (with it) still reopen with their
data; the window store's one physical RocksDB has no metadata column family either."""
from __future__ import annotations

import os

import pytest
from rocksdict import Rdict

from pystreams.serdes import Serdes
from pystreams.state.context import StateStoreContext
from pystreams.state.internals.rocksdb import METADATA_CF, RocksDBStore
from pystreams.state.window import persistent_window_store, window_store_builder
from pystreams.state.window.segments import SegmentDB

pytestmark = pytest.mark.unit


def _store(tmp_path):
    store = window_store_builder(persistent_window_store("w", 120_000, 1000),
                                 Serdes.String(), Serdes.Long()).with_logging_disabled().build()
    ctx = StateStoreContext("app", "0_0", str(tmp_path), key_serde=Serdes.String(), value_serde=Serdes.Long())
    store.init(ctx, store)
    return store


def test_new_segment_has_no_metadata_column_family(tmp_path):
    path = str(tmp_path / "seg")
    db = SegmentDB("seg")
    db.open(path)
    db.put(b"k", b"v")
    db.close()
    assert Rdict.list_cf(path) == ["default"]
    again = SegmentDB("seg")
    again.open(path)
    assert again.get(b"k") == b"v"
    again.close()


def test_segment_written_with_metadata_column_family_reopens(tmp_path):
    path = str(tmp_path / "old")
    old = RocksDBStore("old")
    old.open(path)
    old.put_all([(b"a", b"1"), (b"b", b"2")])
    old.close()
    assert METADATA_CF in Rdict.list_cf(path)
    db = SegmentDB("old")
    db.open(path)
    assert list(db.all()) == [(b"a", b"1"), (b"b", b"2")]
    db.put(b"c", b"3")
    db.close()
    again = SegmentDB("old")
    again.open(path)
    assert again.get(b"c") == b"3"
    again.close()


def test_window_store_segments_survive_a_restart(tmp_path):
    store = _store(tmp_path)
    store.put("k", 1, 0)
    store.put("k", 2, 60_000)
    store.put("j", 3, 60_000)
    assert os.listdir(os.path.join(tmp_path, "w")) == ["w.segments"]  # logical segments: one RocksDB
    assert Rdict.list_cf(os.path.join(tmp_path, "w", "w.segments")) == ["default"]
    store.close()
    reopened = _store(tmp_path)
    assert reopened.fetch("k", 0) == 1
    assert reopened.fetch("k", 60_000) == 2
    assert reopened.fetch("j", 60_000) == 3
    reopened.close()
