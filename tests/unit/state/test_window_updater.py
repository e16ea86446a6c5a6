"""MeteredTimestampedWindowStore.window_updater / aggregate_window's memo of it: bound to the store's layers of
one init (a store closed and initialized again gets a new one), and to its user functions."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams.serdes import Serdes
from pystreams.state.context import RecordContext, StateStoreContext
from pystreams.state.internals.cache import ThreadCache
from pystreams.state.window import persistent_timestamped_window_store, timestamped_window_store_builder

pytestmark = pytest.mark.unit


def _init(store: Any, tmp_path: Any, cache: ThreadCache) -> StateStoreContext:
    ctx = StateStoreContext("app", "0_0", str(tmp_path), cache=cache)
    store.init(ctx, store)
    ctx.record_context = RecordContext(5, 0, "in", 0, ())
    return ctx


def _zero() -> int:
    return 0


def _count(_k: Any, _v: Any, agg: int) -> int:
    return agg + 1


def _twice(_k: Any, _v: Any, agg: int) -> int:
    return agg + 2


def test_updater_follows_reinit_and_user_functions(tmp_path: Any) -> None:
    builder = timestamped_window_store_builder(persistent_timestamped_window_store("w", 120_000, 1000),
                                               Serdes.String(), Serdes.Long()).with_caching_enabled()
    store = builder.build()
    first_cache = ThreadCache(10_000_000)
    _init(store, tmp_path, first_cache)
    store.aggregate_window("k", 0, "x", 5, _zero, _count)
    store.aggregate_window("k", 0, "x", 6, _zero, _twice)  # another aggregator: a new updater
    store.aggregate_window("k", 0, "x", 5, _zero, _count)  # and back
    assert store.fetch("k", 0).value == 4 and store.fetch("k", 0).timestamp == 6
    store.close()
    second_cache = ThreadCache(10_000_000)
    _init(store, tmp_path, second_cache)  # the same store object, initialized again with another cache
    store.aggregate_window("k", 0, "x", 7, _zero, _count)
    assert store.fetch("k", 0).value == 5  # read back from RocksDB (the close flushed), then updated
    assert second_cache.size_bytes() > 0 and first_cache.size_bytes() == 0
    update = store.window_updater(_zero, _count)
    update("j", 1000, "x", 1500)
    assert store.fetch("j", 1000).value == 1
    assert store.fetches >= 2 and store.puts >= 2
    store.close()
