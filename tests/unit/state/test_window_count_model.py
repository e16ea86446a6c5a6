"""The windowed count on its real store stack (metered -> caching -> changelog -> RocksDB logical segments), in the
benchmark's shape (tumbling windows, no grace, so retention = window size = segment interval; several tasks sharing
one thread cache; commits at arbitrary points), checked against a plain model: the last value forwarded by the
cache for every window must be the number of records counted into it.

Also the single-window cases of the record cache: an entry updated, flushed (clean, still cached), updated in place
and flushed again is forwarded and stored again with its new count, with and without eviction."""
from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from pystreams.compiler.processors.stateful.stream_aggregate import count_aggregator, count_initializer
from pystreams.serdes import Serdes
from pystreams.state.context import StateStoreContext
from pystreams.state.internals.cache import ThreadCache
from pystreams.state.window import persistent_timestamped_window_store, timestamped_window_store_builder

pytestmark = pytest.mark.unit

SIZE = 60_000  # the benchmark's window: retention = size (no grace), segment interval max(size / 2, 60 s) = size


class _Forwarded:
    """A flush listener as the DSL's (forward_plain for the batch flush, __call__ for the entry-by-entry one)."""

    def __init__(self) -> None:
        self.latest: dict[tuple[str, int], int] = {}
        self.count = 0

    def forward_plain(self, windowed: Any, new: Any, _old: Any, _timestamp: int, _headers: Any) -> None:
        self.latest[(windowed.key, windowed.window.start)] = new
        self.count += 1

    def __call__(self, record: Any) -> None:
        self.forward_plain(record.key, record.value.new_value, None, record.timestamp, record.headers)


def _store(tmp_path: Any, cache: ThreadCache, task: str, forwarded: _Forwarded) -> tuple[Any, Any]:
    ctx = StateStoreContext("app", task, str(tmp_path / task), cache=cache, changelog_sender=lambda *rec: None)
    supplier = persistent_timestamped_window_store("w", SIZE, SIZE)
    store = timestamped_window_store_builder(supplier, Serdes.String(), Serdes.Long()).with_caching_enabled().build()
    store.init(ctx, store)
    assert store.set_flush_listener(forwarded, False)
    return store, ctx


def _process(ctx: Any, update: Any, stream_time: list[int], key: str, t: int, offset: int) -> bool:
    """The time-window processor's tumbling branch (no grace): False when the record is dropped as late."""
    rc = ctx.record_context
    rc.timestamp, rc.offset, rc.topic, rc.partition, rc.headers = t, offset, "in", 0, ()
    if t > stream_time[0]:
        stream_time[0] = t
    start = t - t % SIZE
    if start + SIZE <= stream_time[0]:
        return False
    update(key, start, "v", t)
    return True


@pytest.mark.parametrize("cache_bytes", [10_485_760, 60_000, 6_000, 0],
                         ids=["default_cache", "evicting", "tiny", "no_budget"])
@pytest.mark.parametrize("seed", [1, 2])
def test_counts_forwarded_equal_the_model(tmp_path: Any, cache_bytes: int, seed: int) -> None:
    rng = random.Random(seed)
    cache = ThreadCache(cache_bytes)
    forwarded = _Forwarded()
    tasks = [_store(tmp_path, cache, f"0_{p}", forwarded) for p in range(3)]
    updates = [store.window_updater(count_initializer, count_aggregator, True, True) for store, _ctx in tasks]
    stream_times = [[-1] for _ in tasks]
    # each task's input in time order (a partition), records 10 ms apart over ~5 windows, 200 keys
    inputs: list[list[tuple[str, int]]] = [[] for _ in tasks]
    t0 = 1_700_000_000_000 + rng.randrange(SIZE)
    for i in range(30_000):
        key = f"w{rng.randrange(200)}"
        inputs[int(key[1:]) % 3].append((key, t0 + i * 10))
    expected: Counter[tuple[str, int]] = Counter()
    positions = [0, 0, 0]
    offset = 0
    while any(positions[p] < len(inputs[p]) for p in range(3)):
        p = rng.randrange(3)
        batch = inputs[p][positions[p]:positions[p] + rng.randrange(1, 400)]  # what one pass processes
        positions[p] += len(batch)
        for key, t in batch:
            offset += 1
            if _process(tasks[p][1], updates[p], stream_times[p], key, t, offset):
                expected[(key, t - t % SIZE)] += 1
        if rng.random() < 0.05:  # a commit: every task's cache flushed
            for store, _ctx in tasks:
                store.flush()
    for store, _ctx in tasks:
        store.flush()
    wrong = {w: (n, forwarded.latest.get(w)) for w, n in expected.items() if forwarded.latest.get(w) != n}
    assert not wrong, f"{len(wrong)} of {len(expected)} windows forwarded wrong: {sorted(wrong.items())[:5]}"
    for store, _ctx in tasks:
        store.close()


@pytest.mark.parametrize("cache_bytes", [10_485_760, 0], ids=["large_cache", "no_budget"])
def test_a_flushed_window_counted_again_is_flushed_again(tmp_path: Any, cache_bytes: int) -> None:
    """Update, flush (the entry stays cached, clean), update the same window in place, flush: the second flush
    forwards and stores the new count; with no budget every write evicts, so each count is read back instead."""
    cache = ThreadCache(cache_bytes)
    forwarded = _Forwarded()
    store, ctx = _store(tmp_path, cache, "0_0", forwarded)
    update = store.window_updater(count_initializer, count_aggregator, True, True)
    stream_time = [-1]
    t = 10 * SIZE
    for n in range(1, 6):
        assert _process(ctx, update, stream_time, "k", t + n, n)
        assert _process(ctx, update, stream_time, "other", t + n, 100 + n)
        store.flush()  # a commit between updates of the same window
        assert forwarded.latest[("k", t)] == n
        assert store.fetch("k", t).value == n
        named = store._caching._named
        assert not named.dirty and all(not e.dirty for e in named.entries.values())
    assert forwarded.latest[("other", t)] == 5
    store.close()
    reopened, _ctx = _store(tmp_path, ThreadCache(cache_bytes), "0_0", _Forwarded())
    assert reopened.fetch("k", t).value == 5  # what the flushes wrote down
    reopened.close()
