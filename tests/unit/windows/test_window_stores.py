"""Window stores: fetch semantics, retention, expired segments range deleted, changelog format, restore."""
from __future__ import annotations

import os
import struct

import pytest
from rocksdict import Options, Rdict

from pystreams.serdes import Serdes
from pystreams.state.window.logical_segments import segment_id_of
from pystreams.serdes.windowed import TimeWindow, Windowed
from pystreams.state import ValueAndTimestamp
from pystreams.state.context import StateStoreContext
from pystreams.state.window import (in_memory_window_store, persistent_timestamped_window_store,
                                    persistent_window_store, timestamped_window_store_builder, window_store_builder)

pytestmark = pytest.mark.unit


def _context(tmp_path, sent):
    return StateStoreContext("app", "0_0", str(tmp_path), key_serde=Serdes.String(), value_serde=Serdes.Long(),
                             changelog_sender=lambda *rec: sent.append(rec))


def _open(builder, tmp_path, sent=None):
    sent = [] if sent is None else sent
    store = builder.build()
    ctx = _context(tmp_path, sent)
    store.init(ctx, store)
    return store, ctx, sent


SUPPLIERS = {
    "rocksdb": lambda name, ret, size, dups=False: persistent_window_store(name, ret, size, dups),
    "memory": lambda name, ret, size, dups=False: in_memory_window_store(name, ret, size, dups),
}


@pytest.mark.parametrize("kind", sorted(SUPPLIERS))
def test_fetch_by_key_and_time_forward_and_backward(tmp_path, kind):
    store, _, _ = _open(window_store_builder(SUPPLIERS[kind]("w", 1000, 100)), tmp_path)
    for start, key, value in [(0, "a", 1), (100, "a", 2), (200, "a", 3), (100, "b", 9), (300, "ab", 7)]:
        store.put(key, value, start)
    assert store.fetch("a", 100) == 2
    assert store.fetch("a", 50) is None
    assert list(store.fetch("a", 0, 200)) == [(0, 1), (100, 2), (200, 3)]
    assert list(store.backward_fetch("a", 50, 250)) == [(200, 3), (100, 2)]
    got = [(w.key, w.window.start, w.window.end, v) for w, v in store.fetch_all(100, 300)]
    assert sorted(got) == [("a", 100, 200, 2), ("a", 200, 300, 3), ("ab", 300, 400, 7), ("b", 100, 200, 9)]
    keyed = [(w.key, w.window.start) for w, _ in store.fetch_key_range("a", "ab", 0, 1000)]
    assert sorted(keyed) == [("a", 0), ("a", 100), ("a", 200), ("ab", 300)]
    store.put("a", None, 100)
    assert store.fetch("a", 100) is None
    assert isinstance(next(iter(store.all())).key, Windowed)
    store.close()


@pytest.mark.parametrize("kind", sorted(SUPPLIERS))
def test_queries_beyond_retention_return_nothing(tmp_path, kind):
    store, _, _ = _open(window_store_builder(SUPPLIERS[kind]("w", 1000, 10)), tmp_path)
    store.put("k", 1, 0)
    store.put("k", 2, 500)
    assert list(store.fetch("k", 0, 2000)) == [(0, 1), (500, 2)]
    store.put("k", 3, 1000)  # stream time 1000: retention 1000 keeps starts > 0
    assert store.fetch("k", 0) is None
    assert list(store.fetch("k", 0, 2000)) == [(500, 2), (1000, 3)]
    store.put("k", 4, 0)  # expired: dropped
    assert list(store.fetch("k", 0, 2000)) == [(500, 2), (1000, 3)]
    store.close()


def test_rocksdb_expired_segments_are_range_deleted(tmp_path):
    supplier = persistent_window_store("segs", 120_000, 1000)
    assert supplier.segment_interval_ms == 60_000  # max(retention / 2, 60 s)
    store, _, _ = _open(window_store_builder(supplier), tmp_path)
    store.put("k", 1, 5_000)
    store.put("k", 2, 65_000)
    seg_dir = tmp_path / "segs"
    assert sorted(os.listdir(seg_dir)) == ["segs.segments"]  # one RocksDB, segments are key ranges in it
    store.put("k", 3, 250_000)  # min live segment = (250000 - 120000) // 60000 = 2
    assert list(store.fetch("k", 0, 300_000)) == [(250_000, 3)]
    store.close()
    db = Rdict(str(seg_dir / "segs.segments"), Options(raw_mode=True))
    try:
        assert [segment_id_of(key) for key in db.keys()] == [4]  # segments 0 and 1 are gone
    finally:
        db.close()


def test_small_retention_uses_sixty_second_segments_and_large_uses_half():
    assert persistent_window_store("x", 10_000, 10).segment_interval_ms == 60_000
    assert persistent_window_store("x", 86_400_000, 10).segment_interval_ms == 43_200_000
    with pytest.raises(Exception, match="must be no smaller than its window size"):
        persistent_window_store("x", 10, 100)


@pytest.mark.parametrize("kind", sorted(SUPPLIERS))
def test_duplicates_are_kept_in_insertion_order(tmp_path, kind):
    store, _, sent = _open(window_store_builder(SUPPLIERS[kind]("d", 1000, 10, True)), tmp_path)
    store.put("k", 1, 5)
    store.put("k", 2, 5)
    store.put("k", None, 5)  # no-op with duplicates
    assert list(store.fetch("k", 0, 10)) == [(5, 1), (5, 2)]
    keys = [rec[1] for rec in sent]
    assert [struct.unpack(">qi", k[-12:]) for k in keys] == [(5, 1), (5, 2), (5, 3)]
    store.close()


def test_timestamped_changelog_format_and_restore(tmp_path):
    builder = timestamped_window_store_builder(persistent_timestamped_window_store("t", 1000, 10))
    store, ctx, sent = _open(builder, tmp_path)
    store.put("k", ValueAndTimestamp(7, 42), 40)
    topic, key, value, ts, partition, headers = sent[0]
    assert headers == ()  # window-store changelog records carry no headers, as in Kafka
    assert topic == "app-t-changelog"
    assert key == b"k" + struct.pack(">qi", 40, 0)
    assert value == struct.pack(">q", 7) and ts == 42
    assert store.fetch("k", 40) == ValueAndTimestamp(7, 42)
    store.close()
    restored, ctx2, _ = _open(timestamped_window_store_builder(in_memory_window_store("t", 1000, 10)),
                              tmp_path / "r")
    ctx2.restore("t", [(key, value, ts, 0)])
    assert restored.fetch("k", 40) == ValueAndTimestamp(7, 42)
    assert [(w, v) for w, v in restored.all()] == [(Windowed("k", TimeWindow(40, 50)), ValueAndTimestamp(7, 42))]
