"""Which buffered record runs next, and the stream time it sees, exactly as in Kafka Streams.

kafka_partition_order_cases.jsonl was produced (tests/unit/state/kafka_generators/OrderCases.java) by Kafka
Streams 4.1.1's TopologyTestDriver: one input record fans out to three topics the same topology reads back
(records with random, often equal or decreasing timestamps); the merge processor logs topic, value, timestamp
and stream time. This pins Kafka's PartitionGroup choice (smallest head timestamp, java.util.PriorityQueue ties)
and the driver's capture / re-enqueue loop.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pystreams.compiler import Topology
from pystreams.processor import Processor, ProcessorContext, Record
from pystreams.serdes import Serdes
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit
S = Serdes.String

CASES = [json.loads(line) for line in
         Path(__file__).with_name("kafka_partition_order_cases.jsonl").read_text().splitlines()]


class Fan(Processor[str, str, str, str]):
    def init(self, context: ProcessorContext[str, str]) -> None:
        self.ctx = context

    def process(self, record: Record[str, str]) -> None:
        for i, op in enumerate(record.value.split(" ")):
            topic, ts = op.split("@")
            self.ctx.forward(Record(record.key, f"{topic}#{i}", int(ts)), f"to-{topic}")


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_processing_order_equals_kafkas(case: dict[str, Any]) -> None:
    log: list[str] = []

    class Merge(Processor[str, str, None, None]):
        def init(self, context: ProcessorContext[None, None]) -> None:
            self.ctx = context

        def process(self, record: Record[str, str]) -> None:
            topic = self.ctx.record_metadata().topic  # type: ignore[union-attr]
            log.append(f"{topic} {record.value} {record.timestamp} st={self.ctx.current_stream_time_ms()}")

    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    t.add_processor("fan", Fan, "src")
    for topic in ("t1", "t2", "t3"):
        t.add_sink(f"to-{topic}", topic, "fan", key_serde=S(), value_serde=S())
        t.add_source(f"from-{topic}", topic, key_serde=S(), value_serde=S())
    t.add_processor("merge", Merge, "from-t1", "from-t2", "from-t3")
    with TopologyTestDriver(t, {"application.id": "oc"}) as d:
        inp = d.create_input_topic("in", S(), S())
        for value, ts in case["inputs"]:
            inp.pipe_input("k", value, ts)
    assert log == case["log"]
