"""The state listener and close() during start() (audit s8 F1/F4): the listener runs outside _thread_count_lock
(Kafka calls it outside its locks "to avoid potential deadlocks"), so one that hands close() to another thread and
waits for it does not deadlock; it sees every transition once, in order; and a close() that lands inside start()
on start()'s own thread (from the listener on CREATED -> REBALANCING, or a signal handler during the thread-start
loop) stops the start: no global thread, stream thread or cleaner starts after close() returned. No broker: the
fakes of test_lifecycle_start_close."""
from __future__ import annotations

import concurrent.futures
import threading
import time
from typing import Any

import pytest

from pystreams.runtime import kafka_streams
from pystreams.runtime.kafka_streams import State
from tests.unit.runtime.test_lifecycle_start_close import (  # noqa: F401  (fakes: the autouse fixture)
    FakeGlobalState,
    FakeStreamThread,
    _locks_are_free,
    _streams,
    fakes,
)

pytestmark = pytest.mark.unit


def test_close_from_the_listener_on_rebalancing_stops_the_start(tmp_path: Any, monkeypatch: Any) -> None:
    streams = _streams(tmp_path)
    made: list[FakeGlobalState] = []
    orig_init = FakeGlobalState.__init__

    def init(self: Any, s: Any) -> None:
        orig_init(self, s)
        made.append(self)

    monkeypatch.setattr(FakeGlobalState, "__init__", init)
    closed: list[bool] = []
    seen: list[tuple[State, State]] = []

    def listener(new: State, old: State) -> None:
        seen.append((new, old))
        if new is State.REBALANCING and not closed:
            closed.append(streams.close(10))

    streams.set_state_listener(listener)
    streams.start()
    assert closed == [True] and streams.state is State.NOT_RUNNING
    # was: start() made and started the global state manager after close() had finished; nobody closed it
    assert not [g for g in made if g.started and not g.closed.is_set()], "global thread started after close()"
    assert FakeStreamThread.started == [] and streams._cleaner is None
    assert _locks_are_free(tmp_path)
    # once each, in order, although close() ran inside the REBALANCING call
    assert seen == [(State.REBALANCING, State.CREATED), (State.PENDING_SHUTDOWN, State.REBALANCING),
                    (State.NOT_RUNNING, State.PENDING_SHUTDOWN)]


def test_close_on_the_starting_thread_during_the_thread_start_loop(tmp_path: Any, monkeypatch: Any) -> None:
    """A signal handler calling close() right after the first stream thread started (the RLock lets it in)."""
    streams = _streams(tmp_path)
    closed: list[bool] = []
    started_after_close: list[str] = []
    orig_start = FakeStreamThread.start

    def start(self: Any) -> None:
        if closed:
            started_after_close.append(self.name)
        orig_start(self)
        if not closed:
            closed.append(streams.close(5))

    monkeypatch.setattr(FakeStreamThread, "start", start)
    cleaners: list[str] = []

    class FakeCleaner:
        def __init__(self, *args: Any) -> None:
            pass

        def start(self) -> None:
            cleaners.append("started")

        def stop(self, wait: bool = True) -> None:
            pass

    monkeypatch.setattr(kafka_streams, "StateDirCleaner", FakeCleaner)
    streams.start()
    assert closed == [True] and streams.state is State.NOT_RUNNING
    assert started_after_close == [], f"started after close() returned: {started_after_close}"
    assert FakeStreamThread.started == ["c1-StreamThread-1"] and cleaners == []
    assert not [t.name for t in FakeStreamThread.created if t.is_alive()]
    assert _locks_are_free(tmp_path)


def test_listener_handing_close_to_another_thread_does_not_deadlock(tmp_path: Any) -> None:
    """The listener on PENDING_ERROR (a stream thread died, SHUTDOWN_CLIENT) runs close(0.5) on an executor and
    waits for it: was a deadlock (the dying thread held _thread_count_lock while calling the listener, close()
    needs it). Now close() returns within its timeout (False: as in Kafka's closeToError the closer starts after
    the listener returned) and the client then reaches ERROR."""
    streams = _streams(tmp_path)
    pool = concurrent.futures.ThreadPoolExecutor(1)
    outcome: list[object] = []
    seen: list[State] = []

    def listener(new: State, old: State) -> None:
        seen.append(new)
        if new is State.PENDING_ERROR:
            try:
                outcome.append(pool.submit(streams.close, 0.5).result(timeout=5))
            except concurrent.futures.TimeoutError:
                outcome.append("helper blocked for 5 s")

    streams.set_state_listener(listener)
    try:
        streams.start()
        victim = FakeStreamThread.created[0]
        failer = threading.Thread(target=lambda: streams._thread_failed(victim, RuntimeError("boom")), daemon=True)
        failer.shutdown = lambda: None  # type: ignore[attr-defined]
        failer.running, failer.assigned_once, failer.rebalancing = True, True, False  # type: ignore[attr-defined]
        streams.threads.append(failer)
        failer.start()
        failer.join(20)
        assert not failer.is_alive()
    finally:
        pool.shutdown(wait=False)
    assert outcome == [False], outcome
    assert streams.wait_for_state(State.ERROR, timeout=10)
    deadline = time.monotonic() + 10  # the closer calls the listener right after setting ERROR
    while len(seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen == [State.REBALANCING, State.PENDING_ERROR, State.ERROR]
    assert _locks_are_free(tmp_path)


def test_listener_on_rebalancing_handing_close_to_another_thread(tmp_path: Any) -> None:
    """start() called the REBALANCING listener holding _thread_count_lock: a close() handed to another thread
    blocked on it until the listener gave up. Now it closes (True) and start() stops there."""
    streams = _streams(tmp_path)
    pool = concurrent.futures.ThreadPoolExecutor(1)
    outcome: list[object] = []

    def listener(new: State, old: State) -> None:
        if new is State.REBALANCING:
            try:
                outcome.append(pool.submit(streams.close, 5).result(timeout=5))
            except concurrent.futures.TimeoutError:
                outcome.append("helper blocked for 5 s")

    streams.set_state_listener(listener)
    try:
        streams.start()
    finally:
        pool.shutdown(wait=True)
    assert outcome == [True], outcome
    assert streams.state is State.NOT_RUNNING and FakeStreamThread.started == []
    assert streams.global_state is None
    assert _locks_are_free(tmp_path)
