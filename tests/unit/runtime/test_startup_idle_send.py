"""An idle stream thread sends what lingers in its producer (streams_producer.send_lingering), without clients:
when records wait in the producer and the poll finds no input, librdkafka's flush (which treats linger.ms as
elapsed) runs for a few ms before the thread blocks for input; under load (records ready) or with nothing pending
the thread polls exactly as before, so linger.ms still batches a busy thread's output."""
from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.runtime import stream_thread
from pystreams.runtime.stream_thread import ThreadMetrics
from pystreams.runtime.streams_producer import IDLE_SEND_WAIT_S, output_pending, send_lingering
from tests.unit.runtime.support import bare_stream_thread

pytestmark = pytest.mark.unit


class FakeProducer:
    """len() = records not yet acknowledged; flush() is recorded and delivers everything."""

    def __init__(self, queued: int, events: list[Any], per_flush: int = 0) -> None:
        self.queued = queued
        self.events = events
        self.per_flush = per_flush  # records one flush slice delivers; 0: all of them

    def __len__(self) -> int:
        return self.queued

    def flush(self, timeout: float) -> int:
        self.events.append(("flush", timeout))
        self.queued = max(0, self.queued - self.per_flush) if self.per_flush else 0
        return self.queued


def _thread(monkeypatch: pytest.MonkeyPatch, queued: int, batches: list[list[Any]],
            restoring: bool = False, per_flush: int = 0) -> Any:
    events: list[Any] = []

    def poll(consumer: Any, max_records: int, timeout: float) -> list[Any]:
        events.append(("poll", timeout))
        return batches.pop(0) if batches else []
    monkeypatch.setattr(stream_thread, "poll_group", lambda thread: None)
    monkeypatch.setattr(stream_thread, "poll_records", poll)
    monkeypatch.setattr(stream_thread, "hand_over", lambda *a: [])
    monkeypatch.setattr(stream_thread, "process_tasks", lambda *a: events.append("process"))
    thread = bare_stream_thread(eos=False, **{"commit.interval.ms": 60_000, "poll.ms": 100})
    thread.streams = SimpleNamespace(is_paused=lambda: False)
    thread._group = SimpleNamespace(member=SimpleNamespace(rejoin_needed=False))
    thread._rejoin_pending = False
    thread._consumer = SimpleNamespace()
    thread._restorer = [object()] if restoring else None  # truthy: tasks are restoring
    thread._restore_step = lambda: events.append("restore")
    thread._standby = None
    thread._backpressure = None
    thread._max_buffered = -1
    thread._collector = SimpleNamespace(producer=FakeProducer(queued, events, per_flush), poll=lambda: None,
                                        check=lambda: None)
    thread.tasks, thread.by_partition = {}, {}
    thread.metrics = ThreadMetrics()
    monkeypatch.setattr(thread.metrics, "refresh_lag", lambda *a: None)
    thread.events = events
    return thread


def test_input_ran_dry_with_output_lingering_sends_it_before_blocking(monkeypatch: pytest.MonkeyPatch) -> None:
    thread = _thread(monkeypatch, queued=3, batches=[])
    thread._iteration([time.monotonic()])
    assert thread.events[:3] == [("poll", 0), ("flush", IDLE_SEND_WAIT_S), ("poll", 0)]
    kind, rest = thread.events[3]  # all sent: the rest of poll.ms (100 ms) waits for input
    assert kind == "poll" and 0.05 < rest <= 0.1


def test_output_larger_than_one_slice_is_sent_in_slices_with_a_look_for_input_between(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache flush left more than one slice sends: the slices go on (no blocking poll while records linger) until
    the producer is empty, then the poll waits out what is left of poll.ms."""
    thread = _thread(monkeypatch, queued=3, batches=[], per_flush=1)
    thread._iteration([time.monotonic()])
    slices = [("flush", IDLE_SEND_WAIT_S), ("poll", 0)] * 3
    assert thread.events[:7] == [("poll", 0), *slices]
    assert thread.events[7][0] == "poll" and thread.events[7][1] > 0 and thread.events[8] == "process"


def test_input_arriving_between_slices_is_processed_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    thread = _thread(monkeypatch, queued=3, batches=[[], [object()]], per_flush=1)
    thread._iteration([time.monotonic()])
    assert thread.events[:4] == [("poll", 0), ("flush", IDLE_SEND_WAIT_S), ("poll", 0), "process"]


def test_records_ready_poll_once_and_leave_the_batch_to_linger(monkeypatch: pytest.MonkeyPatch) -> None:
    thread = _thread(monkeypatch, queued=3, batches=[[object()]])
    thread._iteration([time.monotonic()])
    assert thread.events[:2] == [("poll", 0), "process"]
    assert not any(e[0] == "flush" for e in thread.events if isinstance(e, tuple))


def test_nothing_pending_blocks_for_input_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    thread = _thread(monkeypatch, queued=0, batches=[])
    thread._iteration([time.monotonic()])
    assert thread.events[:2] == [("poll", 0.1), "process"]


def test_restoring_thread_never_waits_in_a_flush(monkeypatch: pytest.MonkeyPatch) -> None:
    thread = _thread(monkeypatch, queued=3, batches=[], restoring=True)
    thread._iteration([time.monotonic()])
    assert thread.events[:2] == [("poll", 0), "restore"]
    assert ("flush", IDLE_SEND_WAIT_S) not in thread.events


def test_output_pending_reads_the_producer_queue_length() -> None:
    events: list[Any] = []
    assert output_pending(SimpleNamespace(producer=FakeProducer(2, events)))  # type: ignore[arg-type]
    assert not output_pending(SimpleNamespace(producer=FakeProducer(0, events)))  # type: ignore[arg-type]
    assert not output_pending(None)
    assert not output_pending(SimpleNamespace(producer=object()))  # type: ignore[arg-type]  # no len(): a fake


def test_send_lingering_holds_the_flush_for_the_given_time() -> None:
    events: list[Any] = []
    collector: Any = SimpleNamespace(producer=FakeProducer(5, events))
    send_lingering(collector, 0.002)
    assert events == [("flush", 0.002)] and len(collector.producer) == 0
