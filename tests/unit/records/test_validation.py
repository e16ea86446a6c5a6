"""validation=True and the field classes' constraints (Faust's names and options)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from pystreams.serdes import Record
from pystreams.serdes.records import (
    BooleanField,
    BytesField,
    DatetimeField,
    DecimalField,
    FloatField,
    IntegerField,
    StringField,
    ValidationError,
)

from .models import Account

pytestmark = pytest.mark.unit


def test_valid_record_and_defaults() -> None:
    account = Account("ann", Decimal("10.50"))
    assert account.age == 30 and account.is_valid() and account.validate() == []


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "a", "balance": Decimal(1)}, "name must have at least 2 characters"),
    ({"name": "a" * 11, "balance": Decimal(1)}, "name must have at most 10 characters"),
    ({"name": "", "balance": Decimal(1)}, "name cannot be left blank"),
    ({"name": "ann", "balance": Decimal("1.234")}, "balance must have less than 2 decimal places"),
    ({"name": "ann", "balance": Decimal("12345678.5")}, "balance must have less than 8 digits"),
    ({"name": "ann", "balance": Decimal("-1")}, "balance must be at least 0"),
    ({"name": "ann", "balance": Decimal("NaN")}, "Illegal value in decimal"),
    ({"name": "ann", "balance": Decimal(1), "age": 17}, "age must be at least 18"),
    ({"name": "ann", "balance": Decimal(1), "age": 131}, "age cannot be more than 130"),
    ({"name": "ann", "balance": "abc"}, "balance is not correct type"),
])
def test_constraint_violations_raise_on_construction(kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        Account(**kwargs)
    assert info.value.field.model is Account


def test_validation_coerces_values() -> None:
    account = Account(name=12345, balance="3.50", age="40")  # type: ignore[arg-type]
    assert account.name == "12345" and account.balance == Decimal("3.50") and account.age == 40


def test_validation_applies_to_loaded_data() -> None:
    with pytest.raises(ValidationError, match="at most 10"):
        Account.loads(b'{"name": "aaaaaaaaaaaaaaa", "balance": "1"}')


def test_without_validation_errors_are_reported_not_raised() -> None:
    class Loose(Record):
        name: str = StringField(max_length=2)
        count: int = IntegerField(max_value=0, required=False, default=0)

    loose = Loose("abc", 5)
    errors = loose.validate()
    assert [e.field.field for e in errors] == ["name", "count"]
    assert not loose.is_valid() and list(map(str, loose.validation_errors)) == list(map(str, errors))
    with pytest.raises(ValidationError, match="name must have at most 2 characters"):
        loose.validate_or_raise()


def test_every_field_class() -> None:
    class All(Record, validation=True):
        b: bool = BooleanField()
        f: float = FloatField(min_value=0.5)
        raw: bytes = BytesField(max_length=3, trim_whitespace=True)
        text: str = StringField(trim_whitespace=True, allow_blank=True)
        when: object = DatetimeField()
        money: Decimal = DecimalField(max_digits=3)

    value = All(b=1, f="1.5", raw=" ab ", text="  x ", when="2024-01-01T00:00:00Z",  # type: ignore[arg-type]
                money="9.99")
    assert value.b is True and value.f == 1.5 and value.raw == b"ab" and value.text == "x"
    assert value.when.year == 2024 and value.money == Decimal("9.99")  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="f must be at least 0.5"):
        All(b=True, f=0.1, raw=b"a", text="", when="2024-01-01", money=Decimal(1))
    with pytest.raises(ValidationError, match="money must have less than 3 digits"):
        All(b=True, f=1.0, raw=b"a", text="", when="2024-01-01", money=Decimal("99.99"))
    with pytest.raises(ValidationError, match="f is not correct type"):
        All(b=True, f="x", raw=b"a", text="", when="2024-01-01", money=Decimal(1))  # type: ignore[arg-type]


def test_required_field_none_is_an_error_with_validation() -> None:
    class Named(Record, validation=True):
        name: str

    with pytest.raises(ValidationError, match="name is required"):
        Named(None)  # type: ignore[arg-type]
