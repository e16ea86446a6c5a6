"""KafkaStreams.close() like Kafka's: a close that times out returns False and still reaches NOT_RUNNING in the
background; a fatal error reaches ERROR the same way; close() from a callback on a stream thread never waits for
itself (stream threads are fakes here: no broker, no sockets)."""
from __future__ import annotations

import threading

import pytest

from pystreams import Consumed, Serdes, StreamsBuilder
from pystreams.runtime.kafka_streams import (
    KafkaStreams,
    State,
    StreamThreadExceptionResponse,
)

pytestmark = pytest.mark.unit


class FakeStreamThread(threading.Thread):
    """Runs until shutdown() and `may_stop` are both set (a processor that blocks past the close timeout)."""

    def __init__(self, body=None) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.may_stop = threading.Event()
        self.body = body
        self.running = True

    def shutdown(self) -> None:
        self.stop.set()

    def run(self) -> None:
        if self.body is not None:
            self.body(self)
        self.stop.wait(30)
        self.may_stop.wait(30)
        self.running = False


def _running_client(tmp_path, *threads):
    b = StreamsBuilder()
    b.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())).to("out")
    streams = KafkaStreams(b.build(), {"application.id": "close", "state.dir": str(tmp_path)})
    seen: list[tuple[State, State]] = []
    streams.set_state_listener(lambda new, old: seen.append((new, old)))
    streams._set_state(State.REBALANCING)
    streams._set_state(State.RUNNING)
    streams.threads = list(threads)
    for t in threads:
        t.start()
    return streams, seen


def test_a_close_that_times_out_returns_false_and_finishes_in_the_background(tmp_path):
    thread = FakeStreamThread()
    streams, seen = _running_client(tmp_path, thread)
    assert streams.close(0.2) is False
    assert thread.stop.is_set()  # asked to stop
    assert streams.state is State.PENDING_SHUTDOWN
    assert streams.close(0.1) is False  # a second close waits for the same one
    thread.may_stop.set()
    assert streams.wait_for_state(State.NOT_RUNNING, timeout=10)
    assert seen[-2:] == [(State.PENDING_SHUTDOWN, State.RUNNING), (State.NOT_RUNNING, State.PENDING_SHUTDOWN)]
    assert streams.close(0) is True


def test_a_close_within_the_timeout_returns_true(tmp_path):
    thread = FakeStreamThread()
    thread.may_stop.set()
    streams, seen = _running_client(tmp_path, thread)
    assert streams.close(10) is True
    assert seen[-1] == (State.NOT_RUNNING, State.PENDING_SHUTDOWN)
    assert streams.state is State.NOT_RUNNING and not thread.is_alive()


def test_close_from_a_listener_on_pending_error_does_not_wait_for_its_own_thread(tmp_path):
    results: list[bool] = []

    def fail(thread):
        thread.may_stop.set()
        streams._thread_failed(thread, RuntimeError("boom"))

    thread = FakeStreamThread(fail)
    b = StreamsBuilder()
    b.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())).to("out")
    streams = KafkaStreams(b.build(), {"application.id": "close", "state.dir": str(tmp_path)})
    streams.set_uncaught_exception_handler(lambda e: StreamThreadExceptionResponse.SHUTDOWN_CLIENT)
    streams.set_state_listener(lambda new, old: results.append(streams.close(None))
                               if new is State.PENDING_ERROR else None)
    streams._set_state(State.REBALANCING)
    streams.threads = [thread]
    thread.start()
    assert streams.wait_for_state(State.ERROR, timeout=10)  # no deadlock: the listener's close did not block
    assert results == [False]
    assert streams.close(1) is True
