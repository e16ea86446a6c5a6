"""Session stores: find_sessions bounds and order, remove, retention (expired segments range deleted), changelog key."""
from __future__ import annotations

import os
import struct

import pytest
from rocksdict import Options, Rdict

from pystreams.serdes import Serdes
from pystreams.state.window.logical_segments import segment_id_of
from pystreams.serdes.windowed import SessionWindow, Windowed
from pystreams.state.context import StateStoreContext
from pystreams.state.session import in_memory_session_store, persistent_session_store, session_store_builder

pytestmark = pytest.mark.unit

KINDS = {"memory": in_memory_session_store, "rocksdb": persistent_session_store}


def _open(supplier, tmp_path):
    sent: list = []
    store = session_store_builder(supplier, Serdes.String(), Serdes.Long()).build()
    ctx = StateStoreContext("app", "0_0", str(tmp_path), changelog_sender=lambda *rec: sent.append(rec))
    store.init(ctx, store)
    return store, sent


def W(key, start, end):
    return Windowed(key, SessionWindow(start, end))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_find_sessions_bounds_and_remove(tmp_path, kind):
    store, sent = _open(KINDS[kind]("s", 1000), tmp_path)
    store.put(W("a", 0, 10), 1)
    store.put(W("a", 20, 30), 2)
    store.put(W("a", 50, 50), 3)
    store.put(W("ab", 20, 30), 9)
    assert [(w.window.start, v) for w, v in store.find_sessions("a", 25, 50)] == [(20, 2), (50, 3)]
    assert [(w.window.start, v) for w, v in store.find_sessions("a", 11, 19)] == []
    assert [w.window.end for w, _ in store.backward_fetch("a")] == [50, 30, 10]
    assert store.fetch_session("a", 20, 30) == 2
    store.remove(W("a", 20, 30))
    assert store.fetch_session("a", 20, 30) is None
    assert sent[0][1] == b"a" + struct.pack(">qq", 10, 0)
    assert sent[-1][1:3] == (b"a" + struct.pack(">qq", 30, 20), None)
    store.close()


def test_rocksdb_session_segments_range_deleted(tmp_path):
    store, _ = _open(persistent_session_store("sess", 120_000), tmp_path)
    store.put(W("k", 1_000, 5_000), 1)
    store.put(W("k", 61_000, 65_000), 2)
    assert sorted(os.listdir(tmp_path / "sess")) == ["sess.segments"]  # one RocksDB, segments are key ranges
    store.put(W("k", 250_000, 250_000), 3)
    assert [v for _, v in store.fetch("k")] == [3]
    store.close()
    db = Rdict(str(tmp_path / "sess" / "sess.segments"), Options(raw_mode=True))
    try:
        assert [segment_id_of(key) for key in db.keys()] == [4]  # segments 0 and 1 are gone
    finally:
        db.close()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_sessions_beyond_retention_are_gone(tmp_path, kind):
    store, _ = _open(KINDS[kind]("s", 100), tmp_path)
    store.put(W("k", 0, 10), 1)
    store.put(W("k", 200, 200), 2)
    assert [v for _, v in store.fetch("k")] == [2]
    store.put(W("k", 5, 50), 7)  # ends before stream time - retention: dropped
    assert [v for _, v in store.fetch("k")] == [2]
    store.close()
