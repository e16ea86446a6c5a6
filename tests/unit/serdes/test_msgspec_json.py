"""JSON (orjson) and msgspec serdes."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import msgspec
import pytest

from pystreams.errors import SerdeError
from pystreams.serdes import Serdes

pytestmark = pytest.mark.unit


class Point(msgspec.Struct):
    x: int
    y: int
    label: str = ""


def test_json_plain_values() -> None:
    serde = Serdes.JSON()
    value = {"a": [1, 2.5, None, True], "b": {"c": "d"}}
    assert serde.serialize("t", value) == b'{"a":[1,2.5,null,true],"b":{"c":"d"}}'
    assert serde.deserialize("t", serde.serialize("t", value)) == value
    assert serde.serialize("t", {"d": Decimal("1.10"), "u": uuid.UUID(int=1),
                                 "t": dt.datetime(2024, 1, 1)}) == (
        b'{"d":"1.10","u":"00000000-0000-0000-0000-000000000001","t":"2024-01-01T00:00:00"}')
    with pytest.raises(SerdeError, match="not valid JSON"):
        serde.deserialize("t", b"{")
    with pytest.raises(SerdeError, match="cannot encode object as JSON"):
        serde.serialize("t", object())


def test_json_typed_decoding_validates() -> None:
    serde = Serdes.JSON(Point)
    assert serde.deserialize("t", b'{"x":1,"y":2}') == Point(1, 2)
    with pytest.raises(SerdeError, match="not valid JSON for"):
        serde.deserialize("t", b'{"x":"one","y":2}')


@pytest.mark.parametrize("protocol", ["json", "msgpack"])
def test_msgspec_struct_round_trip(protocol: str) -> None:
    serde = Serdes.msgspec(Point, protocol=protocol)
    encoded = serde.serialize("t", Point(1, 2, "p"))
    assert serde.deserialize("t", encoded) == Point(1, 2, "p")
    assert serde.serialize("t", None) is None and serde.deserialize("t", None) is None
    with pytest.raises(SerdeError, match="not a valid Point"):
        serde.deserialize("t", b"\x00garbage")


def test_msgspec_json_bytes() -> None:
    assert Serdes.msgspec(Point).serialize("t", Point(1, 2)) == b'{"x":1,"y":2,"label":""}'
    with pytest.raises(SerdeError, match="not one of json, msgpack"):
        Serdes.msgspec(Point, protocol="xml")


def test_json_with_a_record_type_and_utc_as_z() -> None:
    from pystreams.serdes import Record

    class Event(Record, include_metadata=False):
        at: dt.datetime

    serde = Serdes.JSON(Event)
    when = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    assert serde.serialize("t", Event(when)) == b'{"at":"2024-01-01T00:00:00Z"}'
    assert serde.deserialize("t", b'{"at":"2024-01-01T00:00:00Z"}') == Event(when)
