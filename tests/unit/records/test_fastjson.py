"""The msgspec fast path for loading JSON records must give exactly what the Python path gives:
for valid records, and for payloads with wrong, missing, null or odd values (where it hands over
to the Python path)."""
from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any, Optional

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pystreams.errors import SerdeError
from pystreams.serdes import Record, Serdes
from pystreams.serdes.records import DecimalField, StringField
from pystreams.serdes.records.fastjson import json_decoder

pytestmark = pytest.mark.unit


class Level(enum.Enum):
    LOW = "low"
    HIGH = "high"


class Part(Record, namespace="fast.Part"):
    name: str
    qty: int = 1


class Fast(Record, namespace="fast.Fast"):
    text: str
    number: int
    ratio: float
    flag: bool
    money: Decimal
    when: dt.datetime
    ident: uuid.UUID
    level: Level
    maybe: Optional[int] = None
    parts: list[Part] = []
    by_name: dict[str, Part] = {}
    tags: set[str] = set()
    pair: tuple[int, str] = (0, "")
    main: Optional[Part] = None
    by_id: dict[uuid.UUID, list[Part]] = {}
    anything: Any = None


def test_which_classes_take_the_fast_path() -> None:
    assert json_decoder(Fast) is not None and json_decoder(Part) is not None

    class WithBytes(Record):
        blob: bytes

    class Validated(Record, validation=True):
        name: str

    class Renamed(Record):
        user: str = StringField(input_name="userId")

    class DefaultedOptional(Record):
        x: Optional[int] = 5

    class Money(Record):
        amount: Decimal = DecimalField(max_digits=5)

    class Msgpack(Record, serializer="msgpack"):
        x: int

    for cls in (WithBytes, Validated, Renamed, DefaultedOptional, Msgpack):
        assert json_decoder(cls) is None, cls
    assert json_decoder(Money) is not None  # constraints matter only with validation


parts = st.builds(Part, st.text(max_size=5), st.integers(-(2**63), 2**63 - 1))
fast_records = st.builds(
    Fast, text=st.text(max_size=8), number=st.integers(-(2**63), 2**63 - 1),
    ratio=st.floats(allow_nan=False, allow_infinity=False), flag=st.booleans(),
    money=st.decimals(allow_nan=False, allow_infinity=False, places=3,
                      min_value=-(10**12), max_value=10**12),
    when=st.datetimes(min_value=dt.datetime(1, 1, 2),
                      timezones=st.sampled_from([None, dt.timezone.utc,
                                                 dt.timezone(dt.timedelta(hours=5, minutes=30))])),
    ident=st.uuids(), level=st.sampled_from(Level), maybe=st.none() | st.integers(-9, 9),
    parts=st.lists(parts, max_size=3), by_name=st.dictionaries(st.text(max_size=3), parts,
                                                               max_size=2),
    tags=st.sets(st.text(max_size=3), max_size=3), pair=st.tuples(st.integers(-9, 9), st.text()),
    main=st.none() | parts,
    by_id=st.dictionaries(st.uuids(), st.lists(parts, max_size=2), max_size=2),
    anything=st.none() | st.integers(-9, 9) | st.lists(st.text(max_size=2), max_size=2))


def _python_path(payload: bytes) -> Any:
    try:
        return Fast.from_data(orjson.loads(payload))
    except SerdeError as exc:
        return type(exc)


def _fast_path(payload: bytes) -> Any:
    try:
        return Fast.loads(payload)
    except SerdeError as exc:
        return type(exc)


def _same(a: Any, b: Any) -> None:
    assert a == b
    if isinstance(a, Record):
        assert a.__dict__ == b.__dict__
        assert {k: type(v) for k, v in a.__dict__.items()} == \
            {k: type(v) for k, v in b.__dict__.items()}


@settings(max_examples=150, deadline=None)
@given(fast_records)
def test_valid_records_load_the_same_on_both_paths(record: Fast) -> None:
    payload = record.dumps()
    assert Fast.loads(payload) == record
    _same(_fast_path(payload), _python_path(payload))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["low", "2024-01-02", "2024-01-02T03:04:05", "2024-01-02T03:04:05.1234567Z", "2024-01-02t03:04:05z",
                       "2024-01-02T03:04:05.1234565+01:00", "2024-01-02T03:04",
                       "2024-01-02 03:04:05+01:00", "20240102T030405", "1.50", "1e3", "NaN",
                       "12345678123456781234567812345678", "{12345678-1234-5678-1234-567812345678}"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                max_size=3),
    max_leaves=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fast_records, st.sampled_from(list(Fast._options.fields)), json_values, st.booleans())
def test_odd_payloads_load_the_same_on_both_paths(record: Fast, field: str, value: Any,
                                                  drop: bool) -> None:
    data = orjson.loads(record.dumps())
    if drop:
        data.pop(field)
    else:
        data[field] = value
    payload = orjson.dumps(data)
    _same(_fast_path(payload), _python_path(payload))


def test_serde_uses_the_same_loading() -> None:
    record = Fast("t", 1, 0.5, True, Decimal("1.5"), dt.datetime(2024, 1, 1), uuid.UUID(int=1),
                  Level.LOW, parts=[Part("p")])
    serde = Serdes.from_record(Fast)
    assert serde.deserialize("t", serde.serialize("t", record)) == record
    # a declared float comes back a float on both paths (JSON has one number type)
    data = orjson.loads(record.dumps())
    data["ratio"] = 3
    assert type(Fast.loads(orjson.dumps(data)).ratio) is float
    assert type(Fast.from_data(data).ratio) is float


@pytest.mark.parametrize("text", [
    "2024-01-02T03:04:05.1234567Z", "2024-01-02T03:04:05.1234565+01:00", "2024-01-02t03:04:05z",
    "2024-01-02T03:04", "2024-01-02", "2024-01-02 03:04:05", "not a date"])
def test_datetime_text_reads_the_same_on_both_paths(text: str) -> None:
    data = orjson.loads(Fast("t", 1, 0.5, True, Decimal(1), dt.datetime(2024, 1, 1),
                             uuid.UUID(int=1), Level.LOW).dumps())
    data["when"] = text
    payload = orjson.dumps(data)
    _same(_fast_path(payload), _python_path(payload))
    if text == "2024-01-02T03:04:05.1234567Z":  # rounded to the microsecond, like msgspec
        assert Fast.loads(payload).when.microsecond == 123457
