"""Records cross between faust-streaming's Record (the real library, from PyPI) and ours: bytes
Faust writes load into our models and the other way round, and equal models write equal bytes."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("faust", reason="faust-streaming (dev extra) is needed for interop tests")

from .faust_models import Account, FAccount, FItem, FOrder, Item, Order  # noqa: E402

pytestmark = pytest.mark.unit

names = st.text(min_size=1, max_size=8)
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=2,
                       min_value=-10**6, max_value=10**6)
datetimes = st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2200, 1, 1),
                         timezones=st.sampled_from([None, dt.timezone.utc]))
orders = st.fixed_dictionaries({
    "id": names, "amount": decimals, "placed_at": datetimes,
    "items": st.lists(st.tuples(names, st.integers(-5, 5)), max_size=3),
    "ref": st.none() | st.uuids(),
    "notes": st.dictionaries(names, names, max_size=2),
    "discount": st.none() | decimals,
})


def _faust(d: dict) -> FOrder:
    return FOrder(id=d["id"], amount=d["amount"], placed_at=d["placed_at"],
                  items=[FItem(n, q) for n, q in d["items"]], ref=d["ref"], notes=d["notes"],
                  discount=d["discount"])


def _ours(d: dict) -> Order:
    return Order(id=d["id"], amount=d["amount"], placed_at=d["placed_at"],
                 items=[Item(n, q) for n, q in d["items"]], ref=d["ref"], notes=d["notes"],
                 discount=d["discount"])


def _same(ours: Order, theirs: FOrder) -> None:
    assert ours.id == theirs.id
    assert ours.amount == theirs.amount and isinstance(theirs.amount, Decimal)
    assert ours.placed_at == theirs.placed_at and isinstance(theirs.placed_at, dt.datetime)
    assert [(i.name, i.qty) for i in ours.items] == [(i.name, i.qty) for i in theirs.items]
    assert all(isinstance(i, FItem) for i in theirs.items)
    assert str(ours.ref) == str(theirs.ref) if ours.ref else theirs.ref is None
    assert ours.notes == theirs.notes and ours.discount == theirs.discount


@settings(max_examples=60, deadline=None)
@given(orders)
def test_equal_models_write_identical_bytes(d: dict) -> None:
    assert _ours(d).dumps() == _faust(d).dumps()


@settings(max_examples=60, deadline=None)
@given(orders)
def test_faust_bytes_load_into_pystreams_records(d: dict) -> None:
    loaded = Order.loads(_faust(d).dumps())
    assert loaded == _ours(d)
    assert all(isinstance(i, Item) for i in loaded.items)


@settings(max_examples=60, deadline=None)
@given(orders)
def test_pystreams_bytes_load_into_faust_records(d: dict) -> None:
    _same(_ours(d), FOrder.loads(_ours(d).dumps()))


def test_known_faust_payload() -> None:
    theirs = FOrder("o1", Decimal("19.90"), dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc),
                    [FItem("pen", 3)], uuid.UUID(int=7), {"gift": "yes"})
    payload = theirs.dumps()
    assert payload == (
        b'{"id":"o1","amount":"19.90","placed_at":"2024-05-06T07:08:09Z",'
        b'"items":[{"name":"pen","qty":3,"__faust":{"ns":"shop.Item"}}],'
        b'"ref":"00000000-0000-0000-0000-000000000007","notes":{"gift":"yes"},"discount":null,'
        b'"__faust":{"ns":"shop.Order"}}')
    ours = Order.loads(payload)
    assert ours.ref == uuid.UUID(int=7) and ours.items == [Item("pen", 3)]


def test_validation_agrees_with_faust() -> None:
    from faust.exceptions import ValidationError as FaustValidationError

    from pystreams.serdes.records import ValidationError

    assert Account("ok", Decimal("1.25")).dumps() == FAccount("ok", Decimal("1.25")).dumps()
    for name, balance in [("x" * 11, Decimal("1")), ("ok", Decimal("1.234")), ("", Decimal(1))]:
        with pytest.raises(FaustValidationError):
            FAccount(name, balance)
        with pytest.raises(ValidationError):
            Account(name, balance)


def test_polymorphic_payloads_cross_both_ways() -> None:
    from .faust_models import Circle, Drawing, FCircle, FDrawing, FSquare, Square

    theirs = FDrawing([FCircle(1.5), FSquare(2.0)])
    ours = Drawing.loads(theirs.dumps())
    assert [type(s) for s in ours.shapes] == [Circle, Square]
    assert ours == Drawing([Circle(1.5), Square(2.0)])
    assert ours.dumps() == theirs.dumps()
    back = FDrawing.loads(ours.dumps())
    assert [type(s) for s in back.shapes] == [FCircle, FSquare]
    assert [s.radius if isinstance(s, FCircle) else s.side for s in back.shapes] == [1.5, 2.0]


def test_dict_level_api_matches_faust() -> None:
    when = dt.datetime(2024, 5, 6, 7, 8, 9)
    ours = Order("o1", Decimal("1.5"), when, [Item("a")])
    theirs = FOrder("o1", Decimal("1.5"), when, [FItem("a")])
    assert list(ours.asdict()) == list(theirs.asdict())
    assert ours.to_representation()["__faust"] == theirs.to_representation()["__faust"]
    assert list(Order._options.fields) == list(FOrder._options.fields)
    assert Order._options.optionalset == FOrder._options.optionalset
    assert Order._options.defaults.keys() == FOrder._options.defaults.keys()
    assert ours.derive(id="o2").id == theirs.derive(id="o2").id == "o2"
