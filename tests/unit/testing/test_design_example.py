"""DESIGN.md's TopologyTestDriver example, end to end through the DSL (S1) and the stateful processors (S2)."""
from __future__ import annotations

import pytest

from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder
from pystreams.compiler.validate import MissingSerdeError
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit


def word_count() -> object:
    builder = StreamsBuilder()
    lines = builder.stream("text-input", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
    counts = (lines
              .flat_map_values(lambda line: line.lower().split())
              .group_by(lambda key, word: word, Grouped(key_serde=Serdes.String()))
              .count(Materialized(name="word-counts")))
    counts.to_stream().to("word-counts-output", Produced(key_serde=Serdes.String(), value_serde=Serdes.Long()))
    return builder.build()


def test_design_word_count() -> None:
    # as in Kafka, flat_map_values drops the value serde, so the repartition topic needs default.value.serde
    with TopologyTestDriver(word_count(), {"application.id": "wc", "default.value.serde": "string"}) as driver:
        text = driver.create_input_topic("text-input", Serdes.String(), Serdes.String())
        out = driver.create_output_topic("word-counts-output", Serdes.String(), Serdes.Long())
        text.pipe_input("k", "a b a")
        assert out.read_key_values_to_map() == {"a": 2, "b": 1}
        store = driver.get_key_value_store("word-counts")
        assert store.get("a") == 2 and store.get("b") == 1
        repartition = driver.create_output_topic("wc-word-counts-repartition", Serdes.String(), Serdes.String())
        assert repartition.read_key_values_to_list() == [("a", "a"), ("b", "b"), ("a", "a")]


def test_design_word_count_without_default_serde_names_the_fix() -> None:
    with pytest.raises(MissingSerdeError, match="Grouped"):
        TopologyTestDriver(word_count(), {"application.id": "wc"})
