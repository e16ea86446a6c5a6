"""NamedCache.write(): a cached key's entry is rewritten in place (no new entry per update), except while a
flush or a range iterator holds the cache's entries; what readers see is the same as with a new entry per put."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams.state.internals.cache import CacheEntry, NamedCache, ThreadCache

pytestmark = pytest.mark.unit


class Ctx:
    def __init__(self, ts: int, offset: int = 0, headers: Any = ()) -> None:
        self.timestamp, self.offset, self.topic, self.partition, self.headers = ts, offset, "in", 0, headers


def caches() -> tuple[ThreadCache, NamedCache, ThreadCache, NamedCache]:
    """Two identical caches: one written with write(), one with put(new CacheEntry) (the reference)."""
    a, b = ThreadCache(10_000_000), ThreadCache(10_000_000)
    return a, a.named_cache("0_0-s"), b, b.named_cache("0_0-s")


def test_rewrite_in_place_matches_a_new_entry_per_put() -> None:
    ta, a, tb, b = caches()
    flushed_a: list[Any] = []
    flushed_b: list[Any] = []
    a.listener = lambda es: flushed_a.extend((k, e.value, e.timestamp, e.offset, e.headers) for k, e in es)
    b.listener = lambda es: flushed_b.extend((k, e.value, e.timestamp, e.offset, e.headers) for k, e in es)
    writes = [(b"x", b"1", 1, ()), (b"y", b"22", 2, ()), (b"x", b"333", 3, (("h", b"v"),)), (b"x", None, 4, ()),
              (b"y", b"4", 5, ())]
    for i, (k, v, ts, h) in enumerate(writes):
        a.write(k, v, Ctx(ts, i, h), "typed")
        b.put(k, CacheEntry(v, True, ts, i, "in", 0, h, "typed"))
        assert (a.size, ta.total) == (b.size, tb.total)  # the same byte accounting
    assert list(a.entries) == list(b.entries) and list(a.dirty) == list(b.dirty)
    entry = a.entries[b"x"]
    a.write(b"x", b"5", Ctx(9, 7), "typed")
    assert a.entries[b"x"] is entry  # rewritten, not replaced
    b.put(b"x", CacheEntry(b"5", True, 9, 7, "in", 0, (), "typed"))
    a.flush()
    b.flush()
    assert flushed_a == flushed_b == [(b"y", b"4", 5, 4, ()), (b"x", b"5", 9, 7, ())]


def test_a_write_from_the_flush_listener_does_not_change_the_flushed_entry() -> None:
    _, a, _, _ = caches()
    a.write(b"k", b"old", Ctx(1), None)
    seen: list[Any] = []

    def listener(entries: list[Any]) -> None:
        (key, entry), = entries
        a.write(key, b"new", Ctx(2), None)  # e.g. a downstream processor writing the same store
        seen.append((entry.value, entry.timestamp, entry.dirty))

    a.listener = listener
    a.flush()
    assert seen == [(b"old", 1, False)]
    assert a.entries[b"k"].value == b"new" and a.entries[b"k"].dirty and list(a.dirty) == [b"k"]
    assert a.pinned == 0


def test_an_open_range_iterator_keeps_the_entries_it_takes() -> None:
    t, a, _, _ = caches()
    for k in (b"a", b"b"):
        a.write(k, b"1", Ctx(1), None)
    it = t.range("0_0-s", None, None)
    key, entry = next(it)
    a.write(b"a", b"2", Ctx(2), None)
    assert (key, entry.value) == (b"a", b"1")  # what a replaced entry would still say
    assert a.entries[b"a"].value == b"2"
    assert [(k, e.value) for k, e in it] == [(b"b", b"1")]
    assert a.pinned == 0  # iterator ended
    a.write(b"b", b"3", Ctx(3), None)
    assert a.entries[b"b"] is not None and a.entries[b"b"].value == b"3"
