"""hypothesis: every serde round-trips its whole value domain, and the fixed-width numbers decode
as Java's DataInputStream would (big-endian two's complement / IEEE 754)."""
from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pystreams.serdes import Serde, Serdes

pytestmark = pytest.mark.unit

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)

CASES: list[tuple[Serde, st.SearchStrategy]] = [
    (Serdes.String(), st.text()),
    (Serdes.Bytes(), st.binary()),
    (Serdes.ByteArray(), st.binary()),
    (Serdes.ByteBuffer(), st.binary()),
    (Serdes.Short(), st.integers(-(2**15), 2**15 - 1)),
    (Serdes.Integer(), st.integers(-(2**31), 2**31 - 1)),
    (Serdes.Long(), st.integers(-(2**63), 2**63 - 1)),
    (Serdes.Float(), st.floats(width=32, allow_nan=False)),
    (Serdes.Double(), st.floats(allow_nan=False)),
    (Serdes.Boolean(), st.booleans()),
    (Serdes.UUID(), st.uuids()),
    (Serdes.Void(), st.none()),
    (Serdes.JSON(), json_values),
]


@pytest.mark.parametrize(("serde", "values"), CASES, ids=lambda c: type(c).__name__)
def test_round_trip(serde: Serde, values: st.SearchStrategy) -> None:
    @settings(max_examples=150, deadline=None)
    @given(values)
    def check(value: object) -> None:
        encoded = serde.serialize("topic", value)
        assert encoded is None or isinstance(encoded, bytes)
        decoded = serde.deserialize("topic", encoded)
        assert decoded == value
        assert type(decoded) is type(value)
    check()


@settings(max_examples=200, deadline=None)
@given(st.integers(-(2**63), 2**63 - 1))
def test_long_is_javas_two_complement(value: int) -> None:
    encoded = Serdes.Long().serialize("t", value)
    assert encoded is not None and len(encoded) == 8
    # Java's LongDeserializer: value = (value << 8) | (b & 0xFF) over the 8 bytes, signed.
    acc = 0
    for b in encoded:
        acc = (acc << 8) | b
    assert (acc - 2**64 if acc >= 2**63 else acc) == value


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=4, max_size=4))
def test_every_4_bytes_is_an_int_and_a_float(data: bytes) -> None:
    assert Serdes.Integer().deserialize("t", data) == int.from_bytes(data, "big", signed=True)
    f = Serdes.Float().deserialize("t", data)
    expected = struct.unpack(">f", data)[0]
    assert (math.isnan(f) and math.isnan(expected)) or f == expected
    if not math.isnan(f):
        assert Serdes.Float().serialize("t", f) == data


@settings(max_examples=200, deadline=None)
@given(st.uuids())
def test_uuid_text_is_lower_case_36_chars(value: object) -> None:
    encoded = Serdes.UUID().serialize("t", value)
    assert encoded is not None and len(encoded) == 36 and encoded == encoded.lower()
    assert encoded[8:9] == encoded[13:14] == encoded[18:19] == encoded[23:24] == b"-"


class _Point(__import__("msgspec").Struct):
    x: int
    label: str
    tags: list[str] = []


@pytest.mark.parametrize("protocol", ["json", "msgpack"])
def test_msgspec_round_trip(protocol: str) -> None:
    serde = Serdes.msgspec(_Point, protocol=protocol)

    @settings(max_examples=100, deadline=None)
    @given(st.builds(_Point, st.integers(-(2**63), 2**63 - 1), st.text(),
                     st.lists(st.text(), max_size=3)))
    def check(value: _Point) -> None:
        assert serde.deserialize("t", serde.serialize("t", value)) == value
    check()


_AVRO_SCHEMA = {"type": "record", "name": "Row", "fields": [
    {"name": "id", "type": "long"},
    {"name": "name", "type": "string"},
    {"name": "score", "type": ["null", "double"], "default": None},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "attrs", "type": {"type": "map", "values": "int"}},
]}


@settings(max_examples=100, deadline=None)
@given(st.fixed_dictionaries({
    "id": st.integers(-(2**63), 2**63 - 1), "name": st.text(),
    "score": st.none() | st.floats(allow_nan=False),
    "tags": st.lists(st.text(), max_size=3),
    "attrs": st.dictionaries(st.text(), st.integers(-(2**31), 2**31 - 1), max_size=3)}))
def test_avro_round_trip_and_wire_header(row: dict) -> None:
    pytest.importorskip("fastavro")
    from pystreams.serdes.schema_registry import InMemorySchemaRegistry

    serde = Serdes.Avro(_AVRO_SCHEMA, InMemorySchemaRegistry())
    encoded = serde.serialize("rows", row)
    assert encoded is not None and encoded[:5] == b"\x00\x00\x00\x00\x01"
    assert serde.deserialize("rows", encoded) == row
