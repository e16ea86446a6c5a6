"""hypothesis: Record coercion round-trips. Any record of the kitchen-sink model survives
dumps -> loads (json and msgpack) with every value back in its declared Python type, and loading
the JSON-decoded dict via from_data gives the same record."""
from __future__ import annotations

import datetime as dt

import msgspec
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pystreams.serdes import Record, Serdes

from .models import Color, Everything, Item, Node

pytestmark = pytest.mark.unit

text = st.text(max_size=6)
items = st.builds(Item, text, st.integers(-(2**31), 2**31))
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=4,
                       min_value=-(10**9), max_value=10**9)
datetimes = st.datetimes(min_value=dt.datetime(1, 1, 2), timezones=st.sampled_from(
    [None, dt.timezone.utc, dt.timezone(dt.timedelta(hours=-5, minutes=-30))]))
everything = st.builds(
    Everything,
    text=text, number=st.integers(-(2**63), 2**63 - 1),
    ratio=st.floats(allow_nan=False, allow_infinity=False), flag=st.booleans(),
    money=decimals, when=datetimes, day=st.dates(), ident=st.uuids(),
    color=st.sampled_from(Color), blob=st.text().map(str.encode),
    maybe=st.none() | st.integers(-5, 5), tags=st.sets(text, max_size=3),
    pair=st.tuples(st.integers(-5, 5), text), by_name=st.dictionaries(text, items, max_size=2),
    nested=st.none() | items, numbers=st.lists(decimals, max_size=3),
    items_by_id=st.dictionaries(st.uuids(), st.lists(items, max_size=2), max_size=2))


def _types(value: Record) -> dict[str, type]:
    return {k: type(v) for k, v in value.asdict().items()}


@settings(max_examples=120, deadline=None)
@given(everything)
def test_json_round_trip_restores_types(value: Everything) -> None:
    again = Everything.loads(value.dumps())
    assert again == value
    assert _types(again) == _types(value)
    assert Everything.from_data(orjson.loads(value.dumps())) == value
    serde = Serdes.from_record(Everything)
    assert serde.deserialize("t", serde.serialize("t", value)) == value


@settings(max_examples=60, deadline=None)
@given(everything)
def test_msgpack_round_trip(value: Everything) -> None:
    packed = value.dumps(serializer="msgpack")
    assert packed != value.dumps()
    assert Everything.from_data(msgspec.msgpack.decode(packed)) == value


ints = st.integers(-(2**63), 2**63 - 1)  # JSON numbers are 64-bit in orjson (and Faust)
trees = st.recursive(st.builds(Node, ints),
                     lambda kids: st.builds(Node, ints, st.lists(kids, max_size=3)),
                     max_leaves=10)


@settings(max_examples=60, deadline=None)
@given(trees)
def test_recursive_records_round_trip(tree: Node) -> None:
    assert Node.loads(tree.dumps()) == tree


def _reference_bytes(value: Record) -> bytes:
    """What Record.dumps wrote before the generated representation: to_representation through
    orjson with the default callback (Faust's way)."""
    from pystreams.serdes.records.codecs import JSON_OPTIONS, json_default

    return orjson.dumps(value.to_representation(), default=json_default, option=JSON_OPTIONS)


@settings(max_examples=120, deadline=None)
@given(everything)
def test_generated_json_representation_writes_the_reference_bytes(value: Everything) -> None:
    assert value.dumps() == _reference_bytes(value)


@settings(max_examples=60, deadline=None)
@given(everything, st.sampled_from(["numbers", "by_name", "items_by_id", "nested", "money"]),
       st.sampled_from([{"a": 1}, [1, 2], {1, 2}, (3, 4), 1.5, "text", None]))
def test_values_of_other_types_than_declared_still_write_the_reference_bytes(
        value: Everything, field: str, odd: object) -> None:
    value.__dict__[field] = odd  # no coercion: Faust lets any value through
    assert value.dumps() == _reference_bytes(value)
