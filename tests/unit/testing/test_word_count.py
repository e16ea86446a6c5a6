"""A Processor-API word count (custom processor + store + punctuator) driven through the TopologyTestDriver."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams.compiler import Topology
from pystreams.processor import Processor, ProcessorContext, PunctuationType, Record
from pystreams.serdes import Serdes
from pystreams.state import Stores
from pystreams.testing import TestRecord, TopologyTestDriver

pytestmark = pytest.mark.unit


class WordCount(Processor[str, str, str, int]):
    """Counts words into a store; forwards every count on a stream-time punctuation."""

    def init(self, context: ProcessorContext[str, int]) -> None:
        self.context = context
        self.store = context.get_state_store("counts")
        context.schedule(1000, PunctuationType.STREAM_TIME, self.emit)

    def process(self, record: Record[str, str]) -> None:
        for word in record.value.lower().split():
            self.store.put(word, (self.store.get(word) or 0) + 1)

    def emit(self, timestamp: int) -> None:
        with self.store.all() as it:
            for kv in it:
                self.context.forward(Record(kv.key, kv.value, timestamp))


def word_count_topology(persistent: bool = True) -> Topology:
    supplier = (Stores.persistent_key_value_store("counts") if persistent
                else Stores.in_memory_key_value_store("counts"))
    t = Topology()
    t.add_source("source", "text", key_serde=Serdes.String(), value_serde=Serdes.String())
    t.add_processor("count", WordCount, "source")
    t.add_state_store(Stores.key_value_store_builder(supplier, Serdes.String(), Serdes.Long()), "count")
    t.add_sink("sink", "counts-out", "count", key_serde=Serdes.String(), value_serde=Serdes.Long())
    return t


@pytest.mark.parametrize("persistent", [True, False])
def test_word_count_with_punctuation(persistent: bool) -> None:
    with TopologyTestDriver(word_count_topology(persistent), {"application.id": "wc"}) as driver:
        text = driver.create_input_topic("text", Serdes.String(), Serdes.String())
        out = driver.create_output_topic("counts-out", Serdes.String(), Serdes.Long())
        text.pipe_input("k", "a b a", 0)
        # stream-time punctuation is aligned to 0: it fires with the first record (stream time 0)
        assert out.read_records_to_list() == [TestRecord("a", 2, 0), TestRecord("b", 1, 0)]
        text.pipe_input("k", "b c", 500)
        assert out.is_empty()  # next punctuation at 1000
        text.pipe_input("k", "c", 2500)
        # fires once (at stream time 2500) even though 1000 and 2000 both passed
        assert out.read_records_to_list() == [TestRecord("a", 2, 2500), TestRecord("b", 2, 2500),
                                              TestRecord("c", 2, 2500)]
        text.pipe_input("k", "d", 2999)
        assert out.is_empty()  # the next one is at 3000, not 3500
        text.pipe_input("k", "d", 3000)
        assert out.get_queue_size() == 4
        store = driver.get_key_value_store("counts")
        assert store.get("d") == 2 and store.get("a") == 2
        changelog = driver.create_output_topic("wc-counts-changelog", Serdes.String(), Serdes.Long())
        assert changelog.read_key_values_to_list()[:3] == [("a", 1), ("b", 1), ("a", 2)]


def test_input_topic_auto_advance_and_record_metadata() -> None:
    seen: list[Any] = []

    class Meta(Processor[str, str, str, str]):
        def init(self, context: ProcessorContext[str, str]) -> None:
            self.context = context
            seen.append(context.record_metadata())

        def process(self, record: Record[str, str]) -> None:
            seen.append((self.context.record_metadata(), record.timestamp, self.context.current_stream_time_ms()))
            self.context.forward(record.with_value(record.value.upper()))

    t = Topology()
    t.add_source("src", "in", key_serde=Serdes.String(), value_serde=Serdes.String())
    t.add_processor("p", Meta, "src")
    t.add_sink("out", "out", "p", key_serde=Serdes.String(), value_serde=Serdes.String())
    with TopologyTestDriver(t, {"application.id": "m"}, initial_wall_clock_time_ms=1000) as driver:
        inp = driver.create_input_topic("in", Serdes.String(), Serdes.String(), auto_advance=10)
        out = driver.create_output_topic("out", Serdes.String(), Serdes.String())
        inp.pipe_value_list(["x", "y"])
        inp.pipe_input("k", "z", 5)
        assert out.read_records_to_list() == [TestRecord(None, "X", 1000), TestRecord(None, "Y", 1010),
                                              TestRecord("k", "Z", 5)]
    assert (seen[0].topic, seen[0].partition, seen[0].offset) == (None, -1, -1)  # in init(), as Kafka 4.1
    assert [(m.topic, m.partition, m.offset) for m, _, _ in seen[1:]] == [("in", 0, 0), ("in", 0, 1), ("in", 0, 2)]
    assert [st for _, _, st in seen[1:]] == [1000, 1010, 1010]  # stream time never goes back


def test_given_state_dir_is_cleaned_on_close_like_kafka(tmp_path: Any) -> None:
    cfg = {"application.id": "wc", "state.dir": str(tmp_path)}
    for _ in range(2):  # the second driver must not see the first one's RocksDB data
        with TopologyTestDriver(word_count_topology(True), cfg) as driver:
            driver.create_input_topic("text", Serdes.String(), Serdes.String()).pipe_input("k", "a", 0)
            assert (tmp_path / "wc" / "0_0" / "rocksdb" / "counts").is_dir()
            assert driver.get_key_value_store("counts").get("a") == 1
    assert not (tmp_path / "wc").exists()
