"""ChangedSerde: the Change bytes of a table group_by repartition topic must be Kafka's.

The expected hex strings were produced by Kafka Streams 4.1.1's own ChangedSerializer (StringSerializer /
LongSerializer inner) in a throwaway Java program; they are captures, not values derived from our code.
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pystreams.compiler.processors.stateful import ChangedSerde
from pystreams.compiler.processors.stateful._state_types import Change
from pystreams.compiler.processors.stateful.changed_serde import read_varint, write_varint
from pystreams.errors import SerdeError
from pystreams.serdes import Serdes

pytestmark = pytest.mark.unit

JAVA_CAPTURES = [
    (Change("ab", None), "616201"),
    (Change(None, "x"), "7800"),
    (Change("new", "old"), "066e65776f6c6402"),
    (Change("x" * 200, "o"), "9003" + "78" * 200 + "6f02"),
    (Change("", ""), "0002"),
    (Change("n", ""), "026e02"),
]


@pytest.mark.parametrize(("value", "hex_bytes"), JAVA_CAPTURES)
def test_bytes_equal_kafkas_and_read_back(value: Change, hex_bytes: str) -> None:
    serde = ChangedSerde(Serdes.String())
    assert serde.serialize("t", value).hex() == hex_bytes
    back = serde.deserialize("t", bytes.fromhex(hex_bytes))
    assert (back.new_value, back.old_value) == (value.new_value, value.old_value)


def test_long_values_equal_kafkas() -> None:
    serde = ChangedSerde(Serdes.Long())
    assert serde.serialize("t", Change(3, -1)).hex() == "100000000000000003ffffffffffffffff02"


def test_versioned_flags_are_read() -> None:
    serde = ChangedSerde(Serdes.String())
    for flag, latest_byte in ((3, 0), (4, 1)):
        back = serde.deserialize("t", b"ab" + bytes([latest_byte, flag]))
        assert (back.new_value, back.old_value) == ((None, "ab") if flag == 3 else ("ab", None))
        if hasattr(back, "is_latest"):  # only Change types that model versioned tables carry it
            assert back.is_latest == bool(latest_byte)
    back = serde.deserialize("t", bytes.fromhex("066e65776f6c64") + bytes([1, 5]))
    assert (back.new_value, back.old_value) == ("new", "old")


def test_errors_are_clear() -> None:
    serde = ChangedSerde(Serdes.String())
    with pytest.raises(SerdeError, match="Both old and new values are null"):
        serde.serialize("t", Change(None, None))
    with pytest.raises(SerdeError, match="encodingFlag"):
        serde.deserialize("t", b"ab\x09")
    with pytest.raises(SerdeError, match="isLatestFlag"):
        serde.deserialize("t", b"ab\x07\x04")
    with pytest.raises(SerdeError, match="no value serializer"):
        ChangedSerde().serialize("t", Change("a", None))


def test_upgrade_from_before_3_5_refuses_both_values() -> None:
    serde = ChangedSerde(Serdes.String())
    serde.configure({"upgrade.from": "3.3"}, False)
    with pytest.raises(SerdeError, match="unless upgrading"):
        serde.serialize("t", Change("a", "b"))
    assert serde.serialize("t", Change("a", None)) == b"a\x01"


def test_inner_serde_can_come_from_the_app_default() -> None:
    serde = ChangedSerde()
    serde.set_if_unset(Serdes.String(), Serdes.Long())
    assert serde.deserialize("t", serde.serialize("t", Change(7, 6))) == Change(7, 6)


@given(st.integers(min_value=-(2**31), max_value=2**31 - 1))
def test_varint_round_trip(n: int) -> None:
    encoded = write_varint(n)
    assert len(encoded) <= 5
    assert read_varint(encoded, 0) == (n, len(encoded))


@given(st.one_of(st.none(), st.text()), st.one_of(st.none(), st.text()))
def test_change_round_trip(new: str | None, old: str | None) -> None:
    serde = ChangedSerde(Serdes.String())
    if new is None and old is None:
        return
    back = serde.deserialize("t", serde.serialize("t", Change(new, old)))
    assert (back.new_value, back.old_value) == (new, old)
