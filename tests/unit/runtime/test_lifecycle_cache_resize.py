"""add_stream_thread() / remove_stream_thread() resize the global thread's record cache too: Kafka divides
statestore.cache.max.bytes over the stream threads plus the global thread (KafkaStreams.getCacheSizePerThread) and
resizes all of them (resizeThreadCache -> GlobalStreamThread.resize, applied by the global thread in its loop). A
real GlobalStateManager on a scripted consumer (no broker) and fake stream threads."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams.runtime import stream_thread
from pystreams.runtime.global_state import GlobalStateManager
from pystreams.runtime.kafka_streams import State
from tests.unit.runtime.test_global_thread_init import _streams
from tests.unit.runtime.test_lifecycle_global_checkpoint import QueueConsumer, wait_until
from tests.unit.runtime.test_lifecycle_start_close import FakeStreamThread
from tests.unit.runtime.global_support import customer_records, script_global_consumer

pytestmark = pytest.mark.unit

TOTAL = 12_000


def test_adding_and_removing_stream_threads_resizes_the_global_cache(tmp_path, monkeypatch):
    script_global_consumer(monkeypatch, QueueConsumer(customer_records(range(3), "c")), (0, 3))
    monkeypatch.setattr(stream_thread, "StreamThread", FakeStreamThread)
    FakeStreamThread.created, FakeStreamThread.started = [], []
    streams = _streams(tmp_path, **{"statestore.cache.max.bytes": TOTAL, "num.stream.threads": 2, "poll.ms": 10})
    manager = streams.global_state = GlobalStateManager(streams)
    manager.start(timeout=10)
    try:
        streams._set_state(State.REBALANCING)
        with streams._thread_count_lock:  # as start() does: both created, then started
            for thread in [streams._new_thread(FakeStreamThread) for _ in range(2)]:
                thread.start()
        assert manager.cache.max_bytes == TOTAL // 3  # two stream threads + the global thread

        def global_cache_is(size: int) -> Any:
            return lambda: manager.cache.max_bytes == size and manager._cache_resize is None

        assert streams.add_stream_thread() == "c1-StreamThread-3"
        wait_until(global_cache_is(TOTAL // 4), "the global cache resized to a quarter")
        assert [t.cache_sizes[-1] for t in FakeStreamThread.created] == [TOTAL // 4] * 3

        assert streams.remove_stream_thread(timeout=10) == "c1-StreamThread-1"
        wait_until(global_cache_is(TOTAL // 3), "the global cache resized back to a third")
        assert streams.remove_stream_thread(timeout=10) == "c1-StreamThread-2"
        wait_until(global_cache_is(TOTAL // 2), "the global cache resized to a half")
        assert FakeStreamThread.created[2].cache_sizes[-1] == TOTAL // 2
        # no stream thread left: Kafka's cacheSizePerThread(0) is the whole total, the global thread's to use
        assert streams.remove_stream_thread(timeout=10) == "c1-StreamThread-3"
        wait_until(global_cache_is(TOTAL), "the global cache given the whole total")
    finally:
        for thread in FakeStreamThread.created:
            thread.shutdown()
            thread.join(10)
        manager.close()
