"""close() racing start() (Kafka's KafkaStreams.start() starts its threads only after its setState(REBALANCING)
check): a close() from another thread that lands while start() runs - after the global thread started, or while
the topics are planned - leaves no stream thread started behind it, the client NOT_RUNNING and every lock released;
a fatal global-thread error in the same window ends in ERROR the same way. No broker: the admin client, the topic
plan, the global state and the stream threads are fakes, and each close lands at a fixed point of start() (hooks),
not after a sleep."""
from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.processor.errors import StreamsException
from pystreams.runtime import assignment, global_state, kafka_streams, stream_thread
from pystreams.runtime.checkpoint import TaskDirLock
from pystreams.runtime.kafka_streams import KafkaStreams, State
from pystreams.runtime.state_directory import StateDirectory
from tests.unit.runtime.global_support import global_streams

pytestmark = pytest.mark.unit

APP = "lifecycle"


class FakeStreamThread(threading.Thread):
    """A stream thread that runs until shutdown(); every one created and started is recorded."""

    created: list[FakeStreamThread] = []
    started: list[str] = []

    def __init__(self, streams: Any, index: int) -> None:
        super().__init__(daemon=True, name=f"{streams.client_id}-StreamThread-{index}")
        self.index = index
        self.running = True
        self.assigned_once = False
        self.rebalancing = False
        self.stop = threading.Event()
        self.cache_sizes: list[int] = []
        FakeStreamThread.created.append(self)

    def start(self) -> None:
        FakeStreamThread.started.append(self.name)
        super().start()

    def run(self) -> None:
        self.stop.wait(30)
        self.running = False

    def shutdown(self) -> None:
        self.running = False
        self.stop.set()

    def resize_cache(self, size: int) -> None:
        self.cache_sizes.append(size)


class FakeGlobalState:
    """The global state manager's surface KafkaStreams uses; start() runs the test's hook after 'bootstrapping'."""

    hook: Any = None

    def __init__(self, streams: Any) -> None:
        self.streams = streams
        self.started = False
        self.closed = threading.Event()
        self.sizes: list[int] = []

    def start(self) -> None:
        self.started = True
        if FakeGlobalState.hook is not None:
            FakeGlobalState.hook(self.streams)

    def close(self) -> None:
        self.closed.set()

    def resize_cache(self, size: int) -> None:
        self.sizes.append(size)


@pytest.fixture(autouse=True)
def fakes(monkeypatch: pytest.MonkeyPatch) -> Any:
    FakeStreamThread.created, FakeStreamThread.started, FakeGlobalState.hook = [], [], None
    monkeypatch.setattr(kafka_streams, "AdminClient", lambda config: SimpleNamespace(config=config))
    monkeypatch.setattr(kafka_streams, "plan_topology", lambda *a, **kw: SimpleNamespace(cluster_topics={}))
    monkeypatch.setattr(kafka_streams, "ensure_internal_topics", lambda *a, **kw: None)
    monkeypatch.setattr(assignment, "assignor_for", lambda plan, config: None)
    monkeypatch.setattr(stream_thread, "StreamThread", FakeStreamThread)
    monkeypatch.setattr(global_state, "GlobalStateManager", FakeGlobalState)
    yield
    for thread in FakeStreamThread.created:  # nothing outlives the test, whatever it asserted
        thread.shutdown()
        if thread.ident is not None:
            thread.join(10)


def _streams(tmp_path: Any) -> KafkaStreams:
    return global_streams(tmp_path, APP, **{"client.id": "c1", "num.stream.threads": 2})


def _close_on_another_thread(streams: KafkaStreams) -> None:
    """What a signal handler or another thread does: close() and wait until it returned (NOT_RUNNING)."""
    result: list[bool] = []
    closer = threading.Thread(target=lambda: result.append(streams.close(10)))
    closer.start()
    closer.join(15)
    assert result == [True] and streams.state is State.NOT_RUNNING


def _locks_are_free(tmp_path: Any) -> bool:
    directory = StateDirectory(str(tmp_path), APP)
    directory.lock()  # StateDirectoryLockedError while the closed client still held it
    directory.unlock()
    process = TaskDirLock(str(tmp_path / APP), lock_name=".process-metadata.lock")
    try:
        return process.try_lock()
    finally:
        process.unlock()


def _alive_stream_threads() -> list[str]:
    return [t.name for t in FakeStreamThread.created if t.is_alive()]


def test_a_close_after_the_global_thread_started_starts_no_stream_thread(tmp_path):
    streams = _streams(tmp_path)
    seen: list[tuple[State, State]] = []
    streams.set_state_listener(lambda new, old: seen.append((new, old)))
    FakeGlobalState.hook = _close_on_another_thread  # close() lands between the global and the stream threads
    streams.start()
    assert FakeStreamThread.started == [] and _alive_stream_threads() == []
    assert streams.state is State.NOT_RUNNING
    assert seen == [(State.REBALANCING, State.CREATED), (State.PENDING_SHUTDOWN, State.REBALANCING),
                    (State.NOT_RUNNING, State.PENDING_SHUTDOWN)]
    assert streams.global_state.closed.is_set()
    assert streams._cleaner is None  # the state directory cleaner did not start either
    assert _locks_are_free(tmp_path)
    assert streams.close(1) is True  # a close after that: nothing left to do


def test_a_close_while_the_topics_are_planned_starts_nothing_and_releases_the_locks(tmp_path, monkeypatch):
    streams = _streams(tmp_path)

    def plan_then_close(*args: Any, **kwargs: Any) -> Any:
        assert streams.state is State.CREATED  # start() is under way, the client not REBALANCING yet
        _close_on_another_thread(streams)
        return SimpleNamespace(cluster_topics={})

    monkeypatch.setattr(kafka_streams, "plan_topology", plan_then_close)
    streams.start()
    assert streams.state is State.NOT_RUNNING
    assert streams.global_state is None  # no global thread was created after the close
    assert FakeStreamThread.started == [] and _alive_stream_threads() == []
    assert streams.admin is None and _locks_are_free(tmp_path)


def test_a_fatal_global_thread_error_before_the_stream_threads_ends_in_error_without_them(tmp_path):
    streams = _streams(tmp_path)

    def global_thread_fails(s: KafkaStreams) -> None:
        # the global thread's failure is reported from its own thread (Kafka: its uncaught-exception handler)
        reporter = threading.Thread(target=s._thread_failed, args=(s.global_state, StreamsException("boom")))
        reporter.start()
        reporter.join(10)
        assert s.wait_for_state(State.ERROR, timeout=10)

    FakeGlobalState.hook = global_thread_fails
    streams.start()
    assert streams.state is State.ERROR
    assert FakeStreamThread.started == [] and _alive_stream_threads() == []
    assert _locks_are_free(tmp_path)


def test_without_a_close_start_starts_every_stream_thread_with_its_cache_share(tmp_path):
    # the same fakes with no close: the checks above do not stop a normal start
    streams = _streams(tmp_path)
    streams.start()
    try:
        assert streams.state is State.REBALANCING
        assert FakeStreamThread.started == ["c1-StreamThread-1", "c1-StreamThread-2"]
        # 10 MiB over 2 stream threads + the global thread: the global thread's share is resized with theirs
        assert streams.global_state.sizes[-1] == 10 * 1024 * 1024 // 3
        assert all(t.cache_sizes[-1] == 10 * 1024 * 1024 // 3 for t in FakeStreamThread.created)
    finally:
        assert streams.close(10)
    assert _alive_stream_threads() == [] and _locks_are_free(tmp_path)


def test_no_replacement_thread_starts_once_the_client_is_closing(tmp_path):
    streams = _streams(tmp_path)
    streams.start()
    try:
        streams._set_state(State.PENDING_SHUTDOWN)  # a close() began (its closer not run yet)
        streams._start_thread(FakeStreamThread)  # REPLACE_THREAD / a shutdown-request carrier
        assert FakeStreamThread.started == ["c1-StreamThread-1", "c1-StreamThread-2"]
    finally:
        for thread in list(streams.threads):
            thread.shutdown()
        streams._release(join=True)
        streams._set_state(State.NOT_RUNNING)
