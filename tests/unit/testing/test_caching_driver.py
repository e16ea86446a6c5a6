"""A KTable-style counter over a cached timestamped store: the cache dedups per commit (one commit per input
record in the driver), uncached forwards every update; both end with the same table and changelog content."""
from __future__ import annotations

import random
from typing import Any

import pytest

from pystreams.compiler import Topology
from pystreams.processor import Processor, ProcessorContext, Record
from pystreams.serdes import Serdes
from pystreams.state import Change, Stores, ValueAndTimestamp
from pystreams.testing import TestRecord, TopologyTestDriver

pytestmark = pytest.mark.unit


class CountWords(Processor[str, str, str, Any]):
    """Counts words; forwards Change(new, old) itself only when the store has no cache (Kafka's pattern)."""

    def init(self, context: ProcessorContext[str, Any]) -> None:
        self.context = context
        self.store = context.get_state_store("counts")
        self.cached = self.store.set_flush_listener(self.on_flush, True)

    def on_flush(self, record: Record[str, Change[Any]]) -> None:
        new, old = record.value.new_value, record.value.old_value
        self.context.forward(record.with_value(f"{old and old.value}->{new and new.value}")
                             .with_timestamp(new.timestamp if new else record.timestamp))

    def process(self, record: Record[str, str]) -> None:
        for word in record.value.split():
            old = self.store.get(word)
            new = ValueAndTimestamp((old.value if old else 0) + 1, record.timestamp)
            self.store.put(word, new)
            if not self.cached:
                self.context.forward(Record(word, f"{old and old.value}->{new.value}", record.timestamp))


def topology(caching: bool, persistent: bool) -> Topology:
    supplier = (Stores.persistent_timestamped_key_value_store("counts") if persistent
                else Stores.in_memory_key_value_store("counts"))
    builder = Stores.timestamped_key_value_store_builder(supplier, Serdes.String(), Serdes.Long())
    builder.with_caching_enabled() if caching else builder.with_caching_disabled()
    t = Topology()
    t.add_source("src", "in", key_serde=Serdes.String(), value_serde=Serdes.String())
    t.add_processor("count", CountWords, "src")
    t.add_state_store(builder, "count")
    t.add_sink("sink", "out", "count", key_serde=Serdes.String(), value_serde=Serdes.String())
    return t


def run(caching: bool, persistent: bool, lines: list[str]) -> tuple[list[Any], dict[str, Any], list[Any]]:
    with TopologyTestDriver(topology(caching, persistent), {"application.id": "cc"}) as d:
        inp = d.create_input_topic("in", Serdes.String(), Serdes.String())
        for i, line in enumerate(lines):
            inp.pipe_input("k", line, i)
        out = d.create_output_topic("out", Serdes.String(), Serdes.String()).read_records_to_list()
        table = {kv.key: kv.value for kv in d.get_timestamped_key_value_store("counts").all()}
        changelog = d.create_output_topic("cc-counts-changelog", Serdes.String(), Serdes.Long())
        return out, table, changelog.read_records_to_list()


@pytest.mark.parametrize("persistent", [True, False])
def test_cache_dedups_within_a_commit(persistent: bool) -> None:
    out, _, changelog = run(True, persistent, ["a b a"])
    # order of last update: b, then a; one record per key, old value from below the cache
    assert out == [TestRecord("b", "None->1", 0), TestRecord("a", "None->2", 0)]
    assert changelog == [TestRecord("b", 1, 0), TestRecord("a", 2, 0)]
    out, _, _ = run(False, persistent, ["a b a"])
    assert out == [TestRecord("a", "None->1", 0), TestRecord("b", "None->1", 0), TestRecord("a", "1->2", 0)]


@pytest.mark.parametrize("persistent", [True, False])
def test_caching_on_and_off_end_with_the_same_results(persistent: bool) -> None:
    rnd = random.Random(7)
    lines = [" ".join(rnd.choice("abcdefg") for _ in range(rnd.randrange(1, 6))) for _ in range(120)]
    out_on, table_on, log_on = run(True, persistent, lines)
    out_off, table_off, log_off = run(False, persistent, lines)
    assert table_on == table_off
    assert len(out_on) < len(out_off)

    def latest(records: list[Any]) -> dict[Any, Any]:
        return {r.key: (r.value, r.timestamp) for r in records}
    assert latest(out_on) == latest(out_off)
    assert latest(log_on) == latest(log_off)
    assert {k: (v.value, v.timestamp) for k, v in table_on.items()} == latest(log_on)


def test_zero_byte_cache_means_no_caching_layer() -> None:
    # Kafka's InternalTopologyBuilder.rewriteTopology disables caching on every store when
    # statestore.cache.max.bytes is 0 (not a zero-byte cache); the builder itself is left alone
    topo = topology(caching=True, persistent=False)
    builder = topo.store_builders()["counts"]
    for key in ("statestore.cache.max.bytes", "cache.max.bytes.buffering"):
        with TopologyTestDriver(topo, {"application.id": "z", key: 0}) as d:
            d.create_input_topic("in", Serdes.String(), Serdes.String()).pipe_input("k", "a b a", 0)
            out = d.create_output_topic("out", Serdes.String(), Serdes.String()).read_values_to_list()
            assert out == ["None->1", "None->1", "1->2"]  # forwarded by the processor, per update
    assert builder.caching_enabled
    with TopologyTestDriver(topo, {"application.id": "z"}) as d:
        d.create_input_topic("in", Serdes.String(), Serdes.String()).pipe_input("k", "a b a", 0)
        assert d.create_output_topic("out", Serdes.String(), Serdes.String()).read_values_to_list() == \
            ["None->1", "None->2"]
