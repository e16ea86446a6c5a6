"""Shared set-up of the cache-thread tests (test_cache_threads.py for key-value stores, test_cache_threads_windows.py
for window and session stores): a foreign-thread call, the record cache's bookkeeping, cached window/session store
rigs (key-value stores use tests.unit.state.helpers.StoreRig), and the reader-against-writer race both run."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pystreams.serdes import Serdes
from pystreams.state.context import StateStoreContext
from pystreams.state.internals.cache import NamedCache, ThreadCache
from pystreams.state.session import (
    in_memory_session_store,
    persistent_session_store,
    session_store_builder,
)
from pystreams.state.window import (
    in_memory_window_store,
    persistent_window_store,
    window_store_builder,
)

WINDOWS = {"rocksdb": lambda: persistent_window_store("w", 1_000_000, 100),
           "memory": lambda: in_memory_window_store("w", 1_000_000, 100)}
SESSIONS = {"rocksdb": lambda: persistent_session_store("s", 1_000_000),
            "memory": lambda: in_memory_session_store("s", 1_000_000)}


def on_thread(fn: Callable[[], Any]) -> Any:
    """fn() run on a new thread (a foreign thread to the stores initialized on this one); its result or error."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            out["error"] = e

    t = threading.Thread(target=run)
    t.start()
    t.join(10)
    assert not t.is_alive()
    if "error" in out:
        raise out["error"]
    return out["value"]


def named_of(r: Any) -> NamedCache:
    """The one named cache of a rig's ThreadCache (r.cache)."""
    (named,) = r.cache.caches.values()
    return named  # type: ignore[no-any-return]


def recount(cache: ThreadCache) -> int:
    """The cache's bytes recomputed from its entries (Kafka's LRUNode.size() = key + 24 + entry size)."""
    return sum(len(k) + 24 + e.size for named in cache.caches.values() for k, e in named.entries.items())


def race(read_pass: Callable[[], None], write: Callable[[], None]) -> int:
    """read_pass() over and over on an "iq-reader" thread while write() runs on this one (the stream thread); a
    reader's failed assertion fails the test here. Returns the passes the reader completed."""
    stop = threading.Event()
    errors: list[BaseException] = []
    passes = [0]

    def reader() -> None:
        try:
            while not stop.is_set():
                read_pass()
                passes[0] += 1
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    t = threading.Thread(target=reader, name="iq-reader")
    t.start()
    try:
        write()
    finally:
        stop.set()
        t.join(20)
    assert not errors, errors[:1]
    return passes[0]


class Rig:
    """A cached window or session store (String keys, Long values) on a cache of cache_bytes."""

    def __init__(self, tmp_path: Any, builder: Any, cache_bytes: int) -> None:
        self.cache = ThreadCache(cache_bytes)
        self.store = builder.with_caching_enabled().build()
        self.context = StateStoreContext("app", "0_0", str(tmp_path), cache=self.cache,
                                         changelog_sender=lambda *rec: None)
        self.store.init(self.context, self.store)
        self.forwarded_by: list[str] = []
        self.store.set_flush_listener(lambda rec: self.forwarded_by.append(threading.current_thread().name), False)

    def state(self) -> tuple[Any, ...]:
        named = named_of(self)
        return (list(named.entries), list(named.dirty), self.cache.total, named.pinned,
                [(e.value, e.typed) for e in named.entries.values()], len(self.forwarded_by))


def window_rig(tmp_path: Any, kind: str, cache_bytes: int = 10_000_000) -> Rig:
    return Rig(tmp_path, window_store_builder(WINDOWS[kind](), Serdes.String(), Serdes.Long()), cache_bytes)


def session_rig(tmp_path: Any, kind: str, cache_bytes: int = 10_000_000) -> Rig:
    return Rig(tmp_path, session_store_builder(SESSIONS[kind](), Serdes.String(), Serdes.Long()), cache_bytes)
