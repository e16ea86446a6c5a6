"""check_serdes: every missing serde is reported with the DSL operator and the option that fixes it."""
from __future__ import annotations

import pytest

from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder
from pystreams.compiler.validate import MissingSerdeError, check_serdes, missing_serdes

pytestmark = pytest.mark.unit

S, L = Serdes.String(), Serdes.Long()


def word_count(grouped: Grouped | None, produced: Produced | None) -> StreamsBuilder:  # type: ignore[type-arg]
    b = StreamsBuilder()
    (b.stream("in", Consumed(S, S)).flat_map_values(lambda v: v.split())
     .group_by(lambda k, v: v, grouped).count().to_stream().to("out", produced))
    return b


def test_fully_specified_topology_needs_no_defaults() -> None:
    t = word_count(Grouped(S, S), Produced(S, L)).build()
    assert missing_serdes(t, {}) == []
    check_serdes(t, {})


def test_missing_grouped_serdes_name_the_repartition_and_the_fix() -> None:
    t = word_count(None, Produced(S, L)).build()
    problems = missing_serdes(t, {})
    assert len(problems) == 3  # repartition key + value (flat_map_values dropped the value serde), store key
    assert all("group_by" in p for p in problems[:2])
    assert "Grouped(key_serde=..., value_serde=...) to group_by()" in problems[0]
    assert "default.key.serde" in problems[0] and "default.value.serde" in problems[1]
    assert "state store KSTREAM-AGGREGATE-STATE-STORE-0000000003 needs a key serde" in problems[2]
    assert missing_serdes(t, {"default.key.serde": "string", "default.value.serde": "string"}) == []


def test_sink_and_source_report_their_operators() -> None:
    b = StreamsBuilder()
    b.stream("in").to("out")
    with pytest.raises(MissingSerdeError) as err:
        check_serdes(b.build(), {"default.value.serde": "string"})
    text = str(err.value)
    assert "builder.stream('in')" in text and "Consumed(key_serde=..., value_serde=...)" in text
    assert "KStream.to('out')" in text and "Produced(key_serde=..., value_serde=...)" in text
    assert "value serde" not in text


def test_table_group_by_reports_wrapped_changed_serde() -> None:
    b = StreamsBuilder()
    b.table("t", Consumed(S, S)).group_by(lambda k, v: (v, k)).count(Materialized.with_(S, L))
    problems = missing_serdes(b.build(), {})
    assert problems and all("KTable.group_by" in p for p in problems)
