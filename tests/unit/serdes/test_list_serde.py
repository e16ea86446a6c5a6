"""Kafka's ListSerde byte format (strategy byte, null index list or -1 lengths)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pystreams.errors import ConfigError, SerdeError
from pystreams.serdes import Serdes, resolve_serde

pytestmark = pytest.mark.unit


def test_constant_size_format_for_fixed_width_inner() -> None:
    serde = Serdes.ListSerde(Serdes.Integer())
    # strategy 0, 1 null at index 1, size 3, entries 1 and 3 (the null takes no bytes)
    assert serde.serialize("t", [1, None, 3]) == bytes.fromhex(
        "00" "00000001" "00000001" "00000003" "00000001" "00000003")
    assert serde.deserialize("t", serde.serialize("t", [1, None, 3])) == [1, None, 3]


def test_variable_size_format() -> None:
    serde = Serdes.ListSerde(Serdes.String())
    assert serde.serialize("t", ["a", None, "bc"]) == bytes.fromhex(
        "01" "00000003" "00000001" "61" "ffffffff" "00000002" "6263")


def test_empty_last_entry_cannot_be_read_like_java() -> None:
    serde = Serdes.ListSerde(Serdes.String())
    with pytest.raises(SerdeError, match="End of the stream"):
        serde.deserialize("t", serde.serialize("t", ["a", ""]))
    assert serde.deserialize("t", serde.serialize("t", ["", "a"])) == ["", "a"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.none() | st.integers(-(2**63), 2**63 - 1), max_size=8))
def test_round_trip_longs(values: list) -> None:
    serde = Serdes.ListSerde(Serdes.Long())
    assert serde.deserialize("t", serde.serialize("t", values)) == values


@settings(max_examples=100, deadline=None)
@given(st.lists(st.none() | st.text(min_size=1), max_size=8))
def test_round_trip_strings(values: list) -> None:
    serde = Serdes.ListSerde(Serdes.String())
    assert serde.deserialize("t", serde.serialize("t", values)) == values


def test_inner_serde_from_kafka_config() -> None:
    serde = resolve_serde("org.apache.kafka.common.serialization.Serdes$ListSerde",
                          {"default.list.value.serde.inner": "long"}, is_key=False)
    assert serde.deserialize("t", serde.serialize("t", [7])) == [7]
    with pytest.raises(ConfigError, match="default.list.key.serde.inner"):
        resolve_serde("Serdes$ListSerde", {}, is_key=True)
    with pytest.raises(SerdeError, match="no inner serde"):
        resolve_serde("Serdes$ListSerde").serialize("t", [1])
    with pytest.raises(SerdeError, match="Invalid serialization strategy"):
        Serdes.ListSerde(Serdes.Long()).deserialize("t", b"\x07\x00\x00\x00\x00")
