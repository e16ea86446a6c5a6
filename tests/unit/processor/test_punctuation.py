"""Punctuation fires as in Kafka Streams' PunctuationQueue/StreamTask (stream time and wall clock)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pystreams.compiler import Topology
from pystreams.processor import Cancellable, Processor, ProcessorContext, PunctuationType, Record
from pystreams.processor.internals.punctuation import PunctuationQueue, PunctuationSchedule
from pystreams.serdes import Serdes
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit


def test_schedule_skips_missed_intervals() -> None:
    s = PunctuationSchedule("n", 0, 10, lambda ts: None)
    s.advance(0)
    assert s.timestamp == 10
    s.advance(35)  # 10, 20, 30 missed: next is 40, not 20
    assert s.timestamp == 40
    s.advance(40)
    assert s.timestamp == 50


def test_queue_fires_due_schedules_once_with_current_time() -> None:
    calls: list[tuple[str, int]] = []
    q = PunctuationQueue(PunctuationType.STREAM_TIME)
    q.schedule(PunctuationSchedule("a", 0, 10, lambda ts: None))
    q.schedule(PunctuationSchedule("b", 5, 100, lambda ts: None))
    fired = q.may_punctuate(57, lambda sched, now, t: calls.append((sched.node, now)))
    assert fired and calls == [("a", 57), ("b", 57)]
    assert not q.may_punctuate(59, lambda sched, now, t: calls.append((sched.node, now)))
    assert q.may_punctuate(60, lambda sched, now, t: calls.append((sched.node, now)))
    assert calls[-1] == ("a", 60)


class Recorder(Processor[str, str, str, str]):
    """Schedules one punctuator per type and records the timestamps it is called with."""

    calls: list[tuple[str, int]] = []
    cancel_after: int | None = None

    def init(self, context: ProcessorContext[str, str]) -> None:
        self.context = context
        self.stream: Cancellable = context.schedule(timedelta(milliseconds=10), PunctuationType.STREAM_TIME,
                                                    self.on_stream)
        context.schedule(100, PunctuationType.WALL_CLOCK_TIME, self.on_wall)

    def process(self, record: Record[str, str]) -> None:
        pass

    def on_stream(self, ts: int) -> None:
        Recorder.calls.append(("stream", ts))
        if Recorder.cancel_after is not None and ts >= Recorder.cancel_after:
            self.stream.cancel()

    def on_wall(self, ts: int) -> None:
        Recorder.calls.append(("wall", ts))
        self.context.forward(Record("wall", str(ts), ts))


def driver() -> TopologyTestDriver:
    Recorder.calls = []
    t = Topology()
    t.add_source("src", "in", key_serde=Serdes.String(), value_serde=Serdes.String())
    t.add_processor("p", Recorder, "src")
    t.add_sink("sink", "out", "p", key_serde=Serdes.String(), value_serde=Serdes.String())
    return TopologyTestDriver(t, {"application.id": "punct"}, initial_wall_clock_time_ms=1_000)


def test_stream_time_punctuation() -> None:
    with driver() as d:
        inp = d.create_input_topic("in", Serdes.String(), Serdes.String())
        assert Recorder.calls == []  # unknown stream time: nothing before the first record
        inp.pipe_input("k", "v", 3)
        assert Recorder.calls == [("stream", 3)]  # aligned to 0, so due immediately, called with stream time
        inp.pipe_input("k", "v", 9)
        assert Recorder.calls == [("stream", 3)]
        inp.pipe_input("k", "v", 1)  # out of order: stream time stays 9
        inp.pipe_input("k", "v", 10)
        assert Recorder.calls[-1] == ("stream", 10)
        inp.pipe_input("k", "v", 47)  # 20, 30, 40 passed: ONE call, next due at 50
        inp.pipe_input("k", "v", 49)
        assert Recorder.calls == [("stream", 3), ("stream", 10), ("stream", 47)]
        inp.pipe_input("k", "v", 50)
        assert Recorder.calls[-1] == ("stream", 50)


def test_cancel_from_inside_the_punctuator() -> None:
    Recorder.cancel_after = 10
    try:
        with driver() as d:
            inp = d.create_input_topic("in", Serdes.String(), Serdes.String())
            for ts in (0, 10, 20, 30):
                inp.pipe_input("k", "v", ts)
            assert Recorder.calls == [("stream", 0), ("stream", 10)]
    finally:
        Recorder.cancel_after = None


def test_wall_clock_punctuation() -> None:
    with driver() as d:
        out = d.create_output_topic("out", Serdes.String(), Serdes.String())
        d.advance_wall_clock_time(99)
        assert Recorder.calls == []  # first due at start (1000) + 100
        d.advance_wall_clock_time(1)
        assert Recorder.calls == [("wall", 1100)]
        d.advance_wall_clock_time(timedelta(milliseconds=350))  # 1200, 1300, 1400 passed: once, next 1500
        assert Recorder.calls == [("wall", 1100), ("wall", 1450)]
        d.advance_wall_clock_time(50)
        assert Recorder.calls[-1] == ("wall", 1500)
        assert out.read_values_to_list() == ["1100", "1450", "1500"]  # forwarded from the punctuator


def test_interval_below_one_ms_is_refused() -> None:
    class Bad(Processor[Any, Any, Any, Any]):
        def init(self, context: ProcessorContext[Any, Any]) -> None:
            context.schedule(0, PunctuationType.STREAM_TIME, lambda ts: None)

        def process(self, record: Record[Any, Any]) -> None:
            pass

    t = Topology()
    t.add_source("src", "in", key_serde=Serdes.String(), value_serde=Serdes.String())
    t.add_processor("bad", Bad, "src")
    with pytest.raises(Exception, match="minimum supported scheduling interval is 1 millisecond"):
        TopologyTestDriver(t, {"application.id": "x"})
