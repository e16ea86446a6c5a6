"""The global thread initializes the global state itself, as Kafka's GlobalStreamThread (scripted consumer, no
broker): the global task is created and its stores opened on `<client.id>-GlobalStreamThread`, so a cached global
store records that thread as its cache's owner; the restore listener is called there; start() returns once the
bootstrap is done, or raises the thread's initialization error (Kafka's "There are no partitions available ..." for
a missing topic, "Exception caught during initialization of GlobalStreamThread" for anything unexpected) after the
thread closed what it opened and released the global state's lock; close() during the bootstrap ends it."""
from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.processor.errors import StreamsException
from pystreams.runtime import KafkaStreams, StateRestoreListener, global_state
from pystreams.runtime.checkpoint import TaskDirLock
from pystreams.state.internals.cache_layer import CacheLayer
from tests.unit.runtime.global_support import (
    TOPIC,
    ScriptedConsumer,
    customer_records,
    global_streams,
    script_global_consumer,
)

pytestmark = pytest.mark.unit


def _streams(tmp_path: Any, cached: bool = True, **config: Any) -> KafkaStreams:
    return global_streams(tmp_path, "global-init", cached, **{"client.id": "c1", **config})


def cache_layer_of(store: Any) -> CacheLayer:
    """The caching layer under a store's outer layers (metered, read-only wrappers, ...)."""
    layer = store
    while layer is not None and not isinstance(layer, CacheLayer):
        layer = getattr(layer, "wrapped", None)
    assert layer is not None, f"{store!r} has no caching layer"
    return layer


class ThreadNames(StateRestoreListener):
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = fail

    def on_restore_start(self, tp, store, start, end):
        self.calls.append(("start", threading.current_thread().name))
        if self.fail:
            raise ValueError("listener broke")

    def on_batch_restored(self, tp, store, batch_end, n):
        self.calls.append(("batch", threading.current_thread().name))

    def on_restore_end(self, tp, store, total):
        self.calls.append(("end", threading.current_thread().name))


def _manager(tmp_path: Any, monkeypatch: Any, script: list[Any], end: int, **kw: Any) -> Any:
    script_global_consumer(monkeypatch, ScriptedConsumer([script]), (0, end))
    streams = _streams(tmp_path, **kw)
    return streams, global_state.GlobalStateManager(streams)


def _lock_is_free(tmp_path: Any) -> bool:
    probe = TaskDirLock(str(tmp_path / "global-init" / "global"))
    try:
        return probe.try_lock()
    finally:
        probe.unlock()


def test_the_global_thread_opens_and_bootstraps_the_stores_and_owns_their_cache(tmp_path, monkeypatch):
    streams, _ = _manager(tmp_path, monkeypatch, [customer_records(range(3), "c")], end=3)
    listener = ThreadNames()
    streams.set_global_state_restore_listener(listener)
    manager = global_state.GlobalStateManager(streams)  # after set_...: the manager takes the client's listener
    try:
        manager.start(timeout=10)
        thread = manager.thread
        assert thread is not None and thread.name == "c1-GlobalStreamThread" and thread.is_alive()
        store = manager.stores["customers"]
        layer = cache_layer_of(store)
        assert layer._owner == thread.ident != threading.get_ident()
        assert layer.foreign_thread()  # this (the caller of start()) is not the owner: queries only read
        assert {k for k, _ in store.all()} == {"c0", "c1", "c2"}
        assert [c for c, _ in listener.calls] == ["start", "batch", "end"]
        assert {name for _, name in listener.calls} == {"c1-GlobalStreamThread"}
        # the global thread's share of the record cache: 10 MB default over one stream thread plus it
        assert manager.cache.max_bytes == 10 * 1024 * 1024 // 2
    finally:
        manager.close()
    assert not thread.is_alive()
    assert manager.task.closed and _lock_is_free(tmp_path)


def test_a_missing_global_topic_fails_start_with_kafkas_error_and_releases_everything(tmp_path, monkeypatch):
    _, manager = _manager(tmp_path, monkeypatch, [], end=0)
    consumer = global_state.Consumer
    monkeypatch.setattr(consumer, "list_topics", lambda timeout=0: SimpleNamespace(topics={}))
    with pytest.raises(StreamsException) as info:
        manager.start(timeout=10)
    assert str(info.value) == (f"global topic {TOPIC} does not exist: create it before starting the app (There are "
                               f"no partitions available for topic {TOPIC} when initializing global store "
                               "customers)")
    assert manager.thread is not None and not manager.thread.is_alive()
    assert manager.task.closed and manager.consumer is None and _lock_is_free(tmp_path)
    manager.close()  # what KafkaStreams does after a failed start: nothing left to do, no error


def test_a_raising_listener_fails_start_on_the_callers_thread(tmp_path, monkeypatch):
    streams, _ = _manager(tmp_path, monkeypatch, [customer_records(range(3), "c")], end=3)
    listener = ThreadNames(fail=True)
    streams.set_global_state_restore_listener(listener)
    manager = global_state.GlobalStateManager(streams)
    with pytest.raises(StreamsException, match="Fatal user code error in store restore listener for store "
                                               f"customers, partition {TOPIC}-0") as info:
        manager.start(timeout=10)
    assert isinstance(info.value.__cause__, ValueError)
    assert listener.calls == [("start", "c1-GlobalStreamThread")]
    assert not manager.thread.is_alive() and _lock_is_free(tmp_path)


def test_an_unexpected_initialization_error_is_wrapped_like_kafka(tmp_path, monkeypatch):
    _, manager = _manager(tmp_path, monkeypatch, [], end=0)

    def broken(config: dict[str, Any]) -> Any:
        raise RuntimeError("no consumer today")

    monkeypatch.setattr(global_state, "Consumer", broken)
    with pytest.raises(StreamsException, match="^Exception caught during initialization of GlobalStreamThread: "
                                               "RuntimeError: no consumer today$") as info:
        manager.start(timeout=10)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert manager.task.closed and _lock_is_free(tmp_path)


def test_close_during_the_bootstrap_ends_it_and_start_raises(tmp_path, monkeypatch):
    # the partition's end is 5 but only 2 records ever come: the bootstrap waits until close()
    _, manager = _manager(tmp_path, monkeypatch, [customer_records(range(2), "c")], end=5)
    closer = threading.Timer(0.5, manager.close)
    closer.start()
    try:
        with pytest.raises(StreamsException, match="^Initialization for the global stream thread failed: the "
                                                   "client was closed while the global stores were bootstrapping$"):
            manager.start(timeout=30)
    finally:
        closer.join()
    assert not manager.thread.is_alive() and _lock_is_free(tmp_path)


def test_resize_cache_is_applied_by_the_global_thread(tmp_path, monkeypatch):
    _, manager = _manager(tmp_path, monkeypatch, [customer_records(range(50), "c")], end=50)
    try:
        manager.start(timeout=10)
        named = next(iter(manager.cache.caches.values()))
        assert len(named.entries) == 50  # every record is cached (5 MB)
        manager.resize_cache(0)
        deadline = threading.Event()
        for _ in range(100):
            if manager.cache.max_bytes == 0 and manager.cache.total == 0:
                break
            deadline.wait(0.05)
        assert manager.cache.max_bytes == 0 and manager.cache.total == 0 and not named.entries
        assert {k for k, _ in manager.stores["customers"].all()} == {f"c{i}" for i in range(50)}
    finally:
        manager.close()


def test_a_close_as_the_bootstrap_ends_still_fails_start_like_kafka(tmp_path, monkeypatch):
    # close() lands after the last partition reached its end (here: from the listener, on the global thread) and
    # before start() returns: start() must not report a global state that is already shutting down
    streams, _ = _manager(tmp_path, monkeypatch, [customer_records(range(3), "c")], end=3)
    holder: list[Any] = []

    class CloseAtEnd(ThreadNames):
        def on_restore_end(self, tp, store, total):
            holder[0].close()

    streams.set_global_state_restore_listener(CloseAtEnd())
    manager = global_state.GlobalStateManager(streams)
    holder.append(manager)
    with pytest.raises(StreamsException, match="^Initialization for the global stream thread failed"):
        manager.start(timeout=10)
    assert not manager.thread.is_alive() and manager.task.closed and _lock_is_free(tmp_path)
