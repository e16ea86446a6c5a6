"""Window and session stores read from a thread other than the stream thread (interactive queries): no LRU move, a
copy of the entry, scans from a snapshot, no "mutated during iteration" while the stream thread writes (as the
key-value store, test_cache_threads.py; Kafka's CachingWindowStore / CachingSessionStore)."""
from __future__ import annotations

import threading
from typing import Any

import pytest

from pystreams.serdes.windowed import SessionWindow, Windowed
from pystreams.state.internals.cache import NO_TYPED

from tests.unit.state.cache_threads_support import (
    SESSIONS,
    WINDOWS,
    named_of,
    on_thread,
    race,
    recount,
    session_rig,
    window_rig,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("kind", sorted(WINDOWS))
def test_window_foreign_reads_leave_the_cache_as_it_was(tmp_path: Any, kind: str) -> None:
    r = window_rig(tmp_path, kind)
    for i in range(5):
        r.store.put(f"k{i}", i, 100 * i)
    named = named_of(r)
    for entry in named.entries.values():
        entry.typed = NO_TYPED  # as an entry written by a path that kept no deserialized value
    before = r.state()
    assert on_thread(lambda: r.store.fetch("k0", 0)) == 0  # the eldest entry
    assert on_thread(lambda: r.store.fetch("k9", 0)) is None
    assert on_thread(lambda: [(w.key, v) for w, v in r.store.fetch_all(0, 1000)]) == [(f"k{i}", i) for i in range(5)]
    assert on_thread(lambda: list(r.store.fetch("k1", 0, 1000))) == [(100, 1)]
    assert r.state() == before  # no LRU move, no typed value kept in the shared entry, nothing pinned or flushed
    assert r.store.fetch("k0", 0) == 0
    assert list(named.entries)[-1].endswith(b"k0" + (0).to_bytes(8, "big") + (0).to_bytes(4, "big"))


@pytest.mark.parametrize("kind", sorted(SESSIONS))
def test_session_foreign_reads_leave_the_cache_as_it_was(tmp_path: Any, kind: str) -> None:
    r = session_rig(tmp_path, kind)
    for i in range(5):
        r.store.put(Windowed(f"k{i}", SessionWindow(10 * i, 10 * i + 5)), i)
    before = r.state()
    assert on_thread(lambda: r.store.fetch_session("k0", 0, 5)) == 0
    assert on_thread(lambda: [(w.key, v) for w, v in r.store.find_sessions("k3", 0, 100)]) == [("k3", 3)]
    assert on_thread(lambda: [v for _w, v in r.store.fetch("k2")]) == [2]
    assert r.state() == before
    r.store.fetch_session("k0", 0, 5)
    named = named_of(r)
    assert list(named.entries) != before[0]  # the stream thread's read moves the entry to the LRU end


@pytest.mark.parametrize("kind", sorted(WINDOWS))
def test_window_scans_while_the_stream_thread_counts(tmp_path: Any, kind: str) -> None:
    """A foreign thread scans and fetches while this thread counts per (key, window) into a small cache (constant
    evictions): no error on either side, nothing forwarded by the reader, counts only grow, exact totals."""
    r = window_rig(tmp_path, kind, cache_bytes=3000)
    keys = [f"w{i:02d}" for i in range(60)]
    last: dict[tuple[str, int], int] = {}

    def read_pass() -> None:
        got = [((w.key, w.window.start), v) for w, v in r.store.fetch_all(0, 10_000)]
        assert len({k for k, _ in got}) == len(got)  # each window once
        seen = dict(got)
        for k, v in got:
            assert v >= last.get(k, 0), (k, v, last.get(k))
        assert set(last) <= set(seen)  # a window once seen never disappears
        last.update(seen)
        for key in keys[::13]:
            v = r.store.fetch(key, 0)
            assert (v or 0) >= last.get((key, 0), 0)

    truth: dict[tuple[str, int], int] = {}

    def write() -> None:
        for n in range(5000):
            key, start = keys[(n * 31) % len(keys)], 100 * ((n // 1000) % 3)
            old = r.store.fetch(key, start)
            truth[(key, start)] = (old or 0) + 1
            r.store.put(key, truth[(key, start)], start)
            if n % 1000 == 999:
                r.store.flush()

    assert race(read_pass, write) > 0
    assert set(r.forwarded_by) == {threading.current_thread().name}
    assert r.cache.total == recount(r.cache)
    assert {(w.key, w.window.start): v for w, v in r.store.all()} == truth


@pytest.mark.parametrize("kind", sorted(SESSIONS))
def test_session_scans_while_the_stream_thread_writes(tmp_path: Any, kind: str) -> None:
    r = session_rig(tmp_path, kind, cache_bytes=3000)
    keys = [f"s{i:02d}" for i in range(40)]
    last: dict[str, int] = {}

    def read_pass() -> None:
        for key in keys[::7]:
            got = [v for _w, v in r.store.fetch(key)]
            assert len(got) <= 1
            v = got[0] if got else 0
            assert v >= last.get(key, 0), (key, v, last.get(key))
            last[key] = v
            fetched = r.store.fetch_session(key, 0, 10)
            assert (fetched or 0) >= v
        every = [(w.key, v) for w, v in r.store.find_all_sessions(0, 100)]
        assert len({k for k, _ in every}) == len(every)
        for key, v in every:
            assert v >= last.get(key, 0)

    truth: dict[str, int] = {}

    def write() -> None:
        for n in range(5000):
            key = keys[(n * 17) % len(keys)]
            truth[key] = truth.get(key, 0) + 1
            r.store.put(Windowed(key, SessionWindow(0, 10)), truth[key])
            if n % 1000 == 999:
                r.store.flush()

    assert race(read_pass, write) > 0
    assert set(r.forwarded_by) == {threading.current_thread().name}
    assert r.cache.total == recount(r.cache)
    assert {w.key: v for w, v in r.store.find_all_sessions(0, 100)} == truth
