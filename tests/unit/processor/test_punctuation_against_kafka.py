"""Punctuators fire exactly as in Kafka Streams: same calls, order and timestamps on 20 generated cases.

kafka_punctuation_cases.jsonl was produced (tests/unit/state/kafka_generators/PunctuationCases.java) by Kafka
Streams 4.1.1's TopologyTestDriver: a processor schedules a STREAM_TIME punctuator (cancelling itself after
N calls) and a WALL_CLOCK_TIME one in init(), and another STREAM_TIME one from its first process(); the driver
pipes out-of-order records and advances the wall clock.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pystreams.compiler import Topology
from pystreams.processor import Cancellable, Processor, ProcessorContext, PunctuationType, Record
from pystreams.serdes import Serdes
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit

CASES = [json.loads(line) for line in
         Path(__file__).with_name("kafka_punctuation_cases.jsonl").read_text().splitlines()]


def make_processor(case: dict[str, Any], log: list[str]) -> Any:
    class P(Processor[str, str, None, None]):
        def init(self, context: ProcessorContext[None, None]) -> None:
            self.ctx = context
            self.fired = 0
            self.late = False
            self.stream: Cancellable = context.schedule(case["stream"], PunctuationType.STREAM_TIME, self.on_stream)
            context.schedule(case["wall"], PunctuationType.WALL_CLOCK_TIME, lambda ts: log.append(f"wall {ts}"))

        def on_stream(self, ts: int) -> None:
            log.append(f"stream {ts} st={self.ctx.current_stream_time_ms()}")
            self.fired += 1
            if self.fired >= case["cancel_after"]:
                self.stream.cancel()

        def process(self, record: Record[str, str]) -> None:
            log.append(f"proc {record.timestamp} st={self.ctx.current_stream_time_ms()}")
            if not self.late:
                self.late = True
                self.ctx.schedule(case["stream"] * 3, PunctuationType.STREAM_TIME, lambda ts: log.append(f"late {ts}"))
    return P


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_punctuation_log_equals_kafkas(case: dict[str, Any]) -> None:
    log: list[str] = []
    t = Topology()
    t.add_source("src", "in", key_serde=Serdes.String(), value_serde=Serdes.String())
    t.add_processor("p", make_processor(case, log), "src")
    with TopologyTestDriver(t, {"application.id": "pc"}, initial_wall_clock_time_ms=case["start"]) as d:
        inp = d.create_input_topic("in", Serdes.String(), Serdes.String())
        for kind, value in case["events"]:
            if kind == "pipe":
                inp.pipe_input("k", "v", value)
            else:
                d.advance_wall_clock_time(value)
    assert log == case["log"]
