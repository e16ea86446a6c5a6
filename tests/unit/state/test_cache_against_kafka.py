"""The record cache flushes exactly like Kafka's: same changelog records, order and timestamps.

kafka_cache_changelog_cases.jsonl was produced (kafka_generators/CacheCases.java) by Kafka Streams 4.1.1's TopologyTestDriver running the same
Processor-API topology (an in-memory store with caching and logging, written by a processor applying the
ops of each input: `k=v` put, `k=-` delete, `k?` get) with statestore.cache.max.bytes of 10 MiB, 0 (no
caching layer) and small budgets (120/250/600 bytes: evictions, which flush every dirty entry, LRU first).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pystreams.compiler import Topology
from pystreams.processor import Processor, ProcessorContext, Record
from pystreams.serdes import Serdes
from pystreams.state import Stores
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit

CASES = [json.loads(line) for line in
         Path(__file__).with_name("kafka_cache_changelog_cases.jsonl").read_text().splitlines()]


class Ops(Processor[str, str, None, None]):
    def init(self, context: ProcessorContext[None, None]) -> None:
        self.store = context.get_state_store("s")

    def process(self, record: Record[str, str]) -> None:
        for op in record.value.split(" "):
            if op.endswith("?"):
                self.store.get(op[:-1])
                continue
            key, value = op.split("=")
            if value == "-":
                self.store.delete(key)
            else:
                self.store.put(key, value)


@pytest.mark.parametrize("case", CASES, ids=[f"{i}-cache{c['cache']}" for i, c in enumerate(CASES)])
def test_changelog_equals_kafkas(case: dict[str, Any]) -> None:
    t = Topology()
    t.add_source("src", "in", key_serde=Serdes.String(), value_serde=Serdes.String())
    t.add_processor("ops", Ops, "src")
    t.add_state_store(Stores.key_value_store_builder(Stores.in_memory_key_value_store("s"), Serdes.String(),
                                                     Serdes.String()).with_caching_enabled(), "ops")
    with TopologyTestDriver(t, {"application.id": "cc", "statestore.cache.max.bytes": case["cache"]}) as d:
        inp = d.create_input_topic("in", Serdes.String(), Serdes.String())
        for i, ops in enumerate(case["inputs"]):
            inp.pipe_input("x", ops, i * 10)
        log = d.create_output_topic("cc-s-changelog", Serdes.String(), Serdes.String())
        got = [[r.key, r.value, r.timestamp] for r in log.read_records_to_list()]
    assert got == case["changelog"]
