"""add_stream_thread / remove_stream_thread / REPLACE_THREAD like Kafka's KafkaStreams (KIP-663): the lowest free
thread index, the record cache re-split over the live threads, only while RUNNING/REBALANCING; the last thread may
be removed. Stream threads are fakes here (no broker, no sockets)."""
from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from pystreams import Consumed, Serdes, StreamsBuilder
from pystreams.runtime import stream_thread as stream_thread_module
from pystreams.runtime.kafka_streams import (
    KafkaStreams,
    State,
    StreamThreadExceptionResponse,
)
from pystreams.runtime.thread_admin import (
    StreamsTimeoutError,
    cache_size_per_thread,
    next_thread_index,
)

pytestmark = pytest.mark.unit

TOTAL = 12_000


class FakeThread(threading.Thread):
    """Runs until shutdown() (unless `stubborn`); a cache with a budget, like StreamThread's."""

    def __init__(self, streams, index: int) -> None:
        super().__init__(name=f"{streams.client_id}-StreamThread-{index}", daemon=True)
        self.streams, self.index = streams, index
        self.running = True
        self.assigned_once = False
        self.rebalancing = False
        self.stubborn = False
        self.stop = threading.Event()
        self.release = threading.Event()
        self._cache = SimpleNamespace(max_bytes=-1)
        self.tasks: dict = {}
        self.by_partition: dict = {}

    def shutdown(self) -> None:
        self.running = False
        self.stop.set()

    def run(self) -> None:
        self.stop.wait(30)
        if self.stubborn:
            self.release.wait(30)


@pytest.fixture
def client(tmp_path, monkeypatch):
    monkeypatch.setattr(stream_thread_module, "StreamThread", FakeThread)
    made: list[KafkaStreams] = []

    def make(threads: int = 1, global_table: bool = False) -> KafkaStreams:
        b = StreamsBuilder()
        b.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())).to("out")
        if global_table:
            b.global_table("g", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        streams = KafkaStreams(b.build(), {"application.id": "admin", "client.id": "c", "state.dir": str(tmp_path),
                                           "statestore.cache.max.bytes": TOTAL, "num.stream.threads": threads})
        streams._set_state(State.REBALANCING)
        streams._set_state(State.RUNNING)
        with streams._thread_count_lock:
            for thread in [streams._new_thread(FakeThread) for _ in range(threads)]:
                thread.start()
        made.append(streams)
        return streams

    yield make
    for streams in made:
        for t in streams.threads:
            t.shutdown()
            t.release.set()
        for t in streams.threads:
            t.join(5)


def _indexes(streams):
    return sorted(t.index for t in streams.threads)


def _caches(streams):
    return [t._cache.max_bytes for t in streams.threads]


def test_the_lowest_free_index_is_given_out_and_finished_threads_free_theirs():
    def t(index, alive=True, started=True):
        return SimpleNamespace(index=index, ident=1 if started else None, is_alive=lambda: alive)

    assert next_thread_index([]) == 1  # Kafka numbers stream threads from 1
    assert next_thread_index([t(1), t(2)]) == 3
    assert next_thread_index([t(1), t(3)]) == 2
    assert next_thread_index([t(2), t(3)]) == 1
    assert next_thread_index([t(1, alive=False), t(2)]) == 1  # finished (Kafka: DEAD) frees its index
    assert next_thread_index([t(1, alive=False, started=False)]) == 2  # created, not started yet: taken


def test_cache_size_per_thread_is_kafkas_split():
    assert cache_size_per_thread(TOTAL, 3, has_global=False) == 4_000
    assert cache_size_per_thread(TOTAL, 3, has_global=True) == 3_000
    assert cache_size_per_thread(TOTAL, 0, has_global=True) == TOTAL  # no stream thread: the whole total


def test_start_gives_each_thread_its_share_and_consecutive_indexes(client):
    streams = client(threads=3)
    assert [t.name for t in streams.threads] == ["c-StreamThread-1", "c-StreamThread-2", "c-StreamThread-3"]
    assert _caches(streams) == [4_000] * 3


def test_add_stream_thread_names_the_new_thread_and_splits_the_cache_again(client):
    streams = client(threads=1, global_table=True)
    assert _caches(streams) == [6_000]  # one share for the global thread
    assert streams.add_stream_thread() == "c-StreamThread-2"
    assert streams.threads[-1].is_alive()
    assert _caches(streams) == [4_000, 4_000]


def test_add_stream_thread_only_while_running_or_rebalancing(client, tmp_path):
    b = StreamsBuilder()
    b.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())).to("out")
    created = KafkaStreams(b.build(), {"application.id": "admin2", "state.dir": str(tmp_path)})
    assert created.add_stream_thread() is None and created.threads == []
    assert created.remove_stream_thread() is None
    streams = client(threads=1)
    streams._set_state(State.PENDING_SHUTDOWN)
    assert streams.add_stream_thread() is None
    assert streams.remove_stream_thread() is None
    assert len(streams.threads) == 1 and streams.threads[0].running


def test_remove_stream_thread_stops_the_oldest_and_its_index_is_reused(client):
    streams = client(threads=3)
    first = streams.threads[0]
    assert streams.remove_stream_thread(5) == "c-StreamThread-1"
    assert not first.is_alive() and first not in streams.threads
    assert _indexes(streams) == [2, 3] and _caches(streams) == [6_000, 6_000]
    assert streams.add_stream_thread() == "c-StreamThread-1"  # the lowest free index again
    assert _indexes(streams) == [1, 2, 3] and _caches(streams) == [4_000] * 3


def test_the_last_thread_may_be_removed(client):
    streams = client(threads=1)
    assert streams.remove_stream_thread(5) == "c-StreamThread-1"
    assert streams.threads == []
    assert streams.remove_stream_thread(5) is None  # nothing left to remove
    assert streams.add_stream_thread() == "c-StreamThread-1"
    assert _caches(streams) == [TOTAL]


def test_a_thread_that_does_not_stop_in_time_raises_and_keeps_its_index(client):
    streams = client(threads=2)
    stubborn = streams.threads[0]
    stubborn.stubborn = True
    with pytest.raises(StreamsTimeoutError, match="c-StreamThread-1 did not stop"):
        streams.remove_stream_thread(0.2)
    assert stubborn in streams.threads and stubborn.is_alive()
    assert _caches(streams)[1] == 12_000  # the cache is split over the running threads only
    assert streams.add_stream_thread() == "c-StreamThread-3"  # 1 is still held by the stopping thread
    stubborn.release.set()
    stubborn.join(5)
    assert streams.add_stream_thread() == "c-StreamThread-1"  # once it has stopped, its index is free


def test_a_negative_timeout_is_refused(client):
    from pystreams.errors import ConfigError

    streams = client(threads=1)
    with pytest.raises(ConfigError, match="can't be negative"):
        streams.remove_stream_thread(-1)
    assert streams.threads[0].running


def test_replace_thread_takes_a_new_index_while_the_failed_thread_holds_its_own(client):
    streams = client(threads=2)
    streams._handler = lambda e: StreamThreadExceptionResponse.REPLACE_THREAD
    failed = streams.threads[0]
    streams._thread_failed(failed, RuntimeError("boom"))  # as StreamThread.run() calls it, still alive
    assert failed not in streams.threads
    assert sorted(t.name for t in streams.threads) == ["c-StreamThread-2", "c-StreamThread-3"]
    replacement = next(t for t in streams.threads if t.index == 3)
    assert replacement.is_alive()
    assert _caches(streams) == [6_000, 6_000]
    assert streams.state is State.RUNNING
    failed.shutdown()
    failed.join(5)
    # once the failed thread has finished, its index is free again (Kafka trims DEAD threads)
    assert streams.add_stream_thread() == "c-StreamThread-1"


def test_a_thread_failing_while_being_removed_is_not_replaced(client):
    streams = client(threads=2)
    streams._handler = lambda e: StreamThreadExceptionResponse.REPLACE_THREAD
    leaving = streams.threads[0]
    leaving.shutdown()  # remove_stream_thread() asked it to stop
    streams._thread_failed(leaving, RuntimeError("boom while closing"))
    assert [t.index for t in streams.threads] == [1, 2] and streams.state is State.RUNNING


def test_finished_threads_are_trimmed_when_a_thread_is_added(client):
    streams = client(threads=2)
    stubborn = streams.threads[0]
    stubborn.stubborn = True
    with pytest.raises(StreamsTimeoutError):
        streams.remove_stream_thread(0.1)
    stubborn.release.set()
    stubborn.join(5)
    assert stubborn in streams.threads  # stopped late: still listed until the next change
    assert streams.add_stream_thread() == "c-StreamThread-1"
    assert stubborn not in streams.threads and _indexes(streams) == [1, 2]
