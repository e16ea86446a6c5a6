"""The RocksDB window (and session) stores' logical segments (one RocksDB per store, a key range per segment):
expiry by range delete, restore into the same layout, scan order across segment boundaries, reopen after a clean
close, after a crash and from the older one-RocksDB-per-segment layout."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap

import pytest
from rocksdict import Options, Rdict

from pystreams.state.context import StateStoreContext
from pystreams.state.window.logical_segments import segment_id_of
from pystreams.state.session.keys import to_session_key
from pystreams.state.session.segmented import RocksDBSegmentedSessionStore
from pystreams.state.window.in_memory import InMemoryWindowStore
from pystreams.state.window.keys import to_store_key
from pystreams.state.window.segmented import RocksDBSegmentedWindowStore
from pystreams.state.window.segments import SegmentDB

pytestmark = pytest.mark.unit

RETENTION, INTERVAL, SIZE = 500, 200, 100


def _store(path, name="w", retention=RETENTION, interval=INTERVAL, dups=False):
    store = RocksDBSegmentedWindowStore(name, retention_ms=retention, segment_interval_ms=interval,
                                        window_size_ms=SIZE, retain_duplicates=dups)
    store.init(StateStoreContext("app", "0_0", str(path)), store)
    return store


def _physical_segment_ids(path, name="w"):
    """Segment ids of the keys actually in the physical RocksDB (read after the store is closed)."""
    db = Rdict(os.path.join(str(path), name, name + ".segments"), Options(raw_mode=True))
    try:
        return sorted({segment_id_of(key) for key in db.keys()})
    finally:
        db.close()


def test_expired_segments_are_range_deleted_and_stay_gone_after_reopen(tmp_path):
    store = _store(tmp_path)
    for start in (0, 150, 250, 450):  # segments 0, 0, 1, 2
        store.put(b"k", b"v%d" % start, start)
    assert sorted(store._segments) == [0, 1, 2]
    store.put(b"k", b"late", 900)  # stream time 900: min live segment (900 - 500) // 200 = 2
    assert sorted(store._segments) == [2, 4]
    assert list(store.fetch_range(b"k", 0, 1000)) == [(450, b"v450"), (900, b"late")]
    store.put(b"k", b"too-late", 100)  # segment 0 is expired: dropped and counted
    assert store.expired_records == 1
    store.close()
    assert _physical_segment_ids(tmp_path) == [2, 4]  # not only hidden: the keys are deleted
    again = _store(tmp_path)
    assert sorted(again._segments) == [2, 4]
    assert again.fetch(b"k", 450) == b"v450"
    assert again.fetch(b"k", 0) is None and again.fetch(b"k", 250) is None
    assert [start for start, _ in again.fetch_range(b"k", 0, 1000)] == [450, 900]
    again.close()


def test_flush_batch_range_deletes_segments_that_expire_within_it(tmp_path):
    store = _store(tmp_path)
    key = to_store_key(b"a", 0)
    store.write_flushed([(key, b"1", 0), (to_store_key(b"a", 1000), b"2", 1000)])  # segment 0 dies in the batch
    assert store.expired_records == 0  # written while live, then deleted with its segment
    assert sorted(store._segments) == [5]
    assert list(store.all()) == [((b"a", 1000), b"2")]
    store.close()
    assert _physical_segment_ids(tmp_path) == [5]


def test_restore_lands_in_logical_segments(tmp_path):
    records = [(to_store_key(b"k%d" % (i % 3), start), b"%d" % i, start, i)
               for i, start in enumerate([0, 100, 200, 300, 400, 500, 600, 700])]
    records.append((to_store_key(b"k0", 700), None, 700, 8))  # a tombstone in the changelog
    records.append((to_store_key(b"k1", 0), b"old", 0, 9))  # expired by stream time 700: skipped
    store = _store(tmp_path)
    store.restore_batch(records)
    assert store.observed_stream_time == 700 and store.expired_records == 1
    assert sorted(store._segments) == [1, 2, 3]  # min live (700 - 500) // 200 = 1
    expected = [((b"k0", 300), b"3"), ((b"k1", 400), b"4"), ((b"k2", 500), b"5"), ((b"k0", 600), b"6"),
                ((b"k1", 700), b"7")]
    assert list(store.all()) == expected
    store.close()
    assert _physical_segment_ids(tmp_path) == [1, 2, 3]
    again = _store(tmp_path)
    # stream time is not stored (Kafka's observedStreamTime starts at -1 on open), so k2@200, past retention but
    # in a live segment, is visible again until a write moves stream time
    assert list(again.all()) == expected[:1] + [((b"k2", 200), b"2")] + expected[1:]
    again.put(b"k1", b"7", 700)
    assert list(again.all()) == expected
    again.close()


def _random_writes(seed):
    rng = random.Random(seed)
    return [(b"k%d" % rng.randrange(6), rng.randrange(0, 1200, 50), b"%d" % i) for i in range(300)]


def _model_scan(model, stream_time, key_from, key_to, time_from, time_to, forward):
    """What a segmented store returns: live windows ordered by (segment, store key), as the one-RocksDB-per-segment
    layout returned them."""
    low = max(time_from, stream_time - 1000 + 1)
    found = sorted((start // 200, to_store_key(key, start), key, start, value)
                   for (key, start), value in model.items()
                   if low <= start <= time_to and (key_from is None or key >= key_from)
                   and (key_to is None or key <= key_to))
    return [((key, start), value) for _sid, _sk, key, start, value in (found if forward else found[::-1])]


@pytest.mark.parametrize("seed", [1, 2])
def test_scans_cross_segment_boundaries_in_order(tmp_path, seed):
    """Forward and backward scans over several live segments: segment by segment, key bytes within one; a single
    key's windows in time order (as the in-memory store returns them)."""
    rocks = _store(tmp_path, retention=1000, interval=200)
    memory = InMemoryWindowStore("m", 1000, SIZE, False)
    model = {}
    for key, start, value in _random_writes(seed):
        rocks.put(key, value, start)
        memory.put(key, value, start)
        model[key, start] = value
    stream_time = rocks.observed_stream_time
    assert len(rocks._segments) >= 5
    for forward in (True, False):
        assert list(rocks.all(forward)) == _model_scan(model, stream_time, None, None, 0, 1 << 62, forward)
        for time_from, time_to in [(0, 1200), (150, 650), (400, 401), (250, 999)]:
            assert list(rocks.fetch_all(time_from, time_to, forward)) == _model_scan(
                model, stream_time, None, None, time_from, time_to, forward)
            for key in (b"k0", b"k3"):
                got = list(rocks.fetch_range(key, time_from, time_to, forward))
                assert got == list(memory.fetch_range(key, time_from, time_to, forward))
                starts = [start for start, _ in got]
                assert starts == sorted(starts, reverse=not forward)
            for key_from, key_to in [(b"k1", b"k3"), (None, b"k2"), (b"k4", None)]:
                assert list(rocks.fetch_keys(key_from, key_to, time_from, time_to, forward)) == _model_scan(
                    model, stream_time, key_from, key_to, time_from, time_to, forward)
    rocks.close()


def test_duplicates_across_segments_keep_insertion_order(tmp_path):
    store = _store(tmp_path, dups=True)
    for start, value in [(150, b"a"), (150, b"b"), (250, b"c"), (250, b"d")]:
        store.put(b"k", value, start)
    assert list(store.fetch_range(b"k", 0, 400)) == [(150, b"a"), (150, b"b"), (250, b"c"), (250, b"d")]
    assert list(store.fetch_range(b"k", 0, 400, False)) == [(250, b"d"), (250, b"c"), (150, b"b"), (150, b"a")]
    assert store.fetch(b"k", 250) == b"c"
    store.close()


def test_reopen_after_a_crash_keeps_written_data(tmp_path):
    """A process that writes (put and a cache flush's batch) and dies without close or flush loses nothing."""
    script = textwrap.dedent(f"""
        import os
        from pystreams.state.context import StateStoreContext
        from pystreams.state.window.keys import to_store_key
        from pystreams.state.window.segmented import RocksDBSegmentedWindowStore
        store = RocksDBSegmentedWindowStore("w", {RETENTION}, {INTERVAL}, {SIZE}, False)
        store.init(StateStoreContext("app", "0_0", {str(tmp_path)!r}), store)
        store.put(b"a", b"1", 100)
        store.write_flushed([(to_store_key(b"b", 300), b"2", 300), (to_store_key(b"c", 600), b"3", 600)])
        os._exit(0)
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    store = _store(tmp_path)
    assert sorted(store._segments) == [0, 1, 3]
    assert list(store.all()) == [((b"a", 100), b"1"), ((b"b", 300), b"2"), ((b"c", 600), b"3")]
    store.close()


def test_old_one_rocksdb_per_segment_layout_is_migrated(tmp_path):
    old_dir = tmp_path / "w"
    for segment_start, entries in [(0, [(b"a", 100, b"1")]), (200, [(b"a", 300, b"2"), (b"b", 250, b"3")])]:
        db = SegmentDB(f"w.{segment_start}")
        db.open(str(old_dir / f"w.{segment_start}"))
        db.put_all([(to_store_key(key, start), value) for key, start, value in entries])
        db.close()
    store = _store(tmp_path)
    assert sorted(os.listdir(old_dir)) == ["w.segments"]
    assert sorted(store._segments) == [0, 1]
    assert list(store.all()) == [((b"a", 100), b"1"), ((b"a", 300), b"2"), ((b"b", 250), b"3")]
    store.close()


def test_session_store_shares_the_layout_across_reopen(tmp_path):
    def open_sessions():
        store = RocksDBSegmentedSessionStore("s", RETENTION, INTERVAL)
        store.init(StateStoreContext("app", "0_0", str(tmp_path)), store)
        return store

    store = open_sessions()
    records = [(to_session_key(key, start, end), value, end, i)
               for i, (key, start, end, value) in enumerate([(b"a", 0, 50, b"1"), (b"b", 100, 250, b"2"),
                                                             (b"a", 300, 450, b"3"), (b"a", 500, 650, b"4")])]
    store.restore_batch(records)  # stream time 650: min live segment (650 - 500) // 200 = 0
    store.put(b"b", 700, 800, b"5")  # stream time 800: segment 0 (a@[0,50]) range deleted
    assert sorted(store._segments) == [1, 2, 3, 4]
    expected = [((b"b", 100, 250), b"2"), ((b"a", 300, 450), b"3"), ((b"a", 500, 650), b"4"),
                ((b"b", 700, 800), b"5")]
    # b@[100,250] is in a live segment but ends before stream time - retention: only the by-end scan sees it
    assert list(store.find_sessions(None, None, 0, 1 << 62)) == expected[1:]
    assert list(store.find_sessions(b"a", b"a", 0, 1 << 62, forward=False)) == [expected[2], expected[1]]
    store.close()
    assert _physical_segment_ids(tmp_path, "s") == [1, 2, 3, 4]
    again = open_sessions()
    assert again.fetch_session(b"a", 300, 450) == b"3" and again.fetch_session(b"a", 0, 50) is None
    assert list(again.find_sessions_by_end(0, 1 << 62)) == expected
    again.close()


def test_negative_window_starts_expire_with_the_others(tmp_path):
    """A processor may put a negative window start: its segment sorts before segment 0 in the physical store, so
    one range delete over several expired segments still covers them all."""
    store = _store(tmp_path)
    store.put(b"k", b"neg", -150)  # segment -1
    store.put(b"k", b"zero", 50)  # segment 0
    assert [start for start, _ in store.fetch_range(b"k", -1000, 1000)] == [50]  # fetches start at 0, as before
    assert list(store.all()) == [((b"k", 50), b"zero")]
    store.put(b"k", b"late", 1000)  # min live segment (1000 - 500) // 200 = 2: -1 and 0 expire in one range
    assert sorted(store._segments) == [5]
    store.close()
    assert _physical_segment_ids(tmp_path) == [5]
