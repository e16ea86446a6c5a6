"""Field descriptors with Faust's names and options (StringField, DecimalField ...): they describe a
Record field on the class (``Order.amount``), carry its constraints and check them on validation."""
from __future__ import annotations

import datetime as _dt
import decimal
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec

from pystreams.errors import SerdeError

if TYPE_CHECKING:
    from pystreams.serdes.records.record import Record

T = TypeVar("T")
_MISSING: Any = object()


class ValidationError(SerdeError, ValueError):
    """A Record field value breaks its declared type or constraints (Faust's ValidationError)."""

    def __init__(self, reason: str, *, field: FieldDescriptor[Any]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field

    def __str__(self) -> str:
        return f"{self.reason} {self.field!r}"


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


class FieldDescriptor(Generic[T]):
    """A Record field: on the class it describes the field (``Order.id``); instances keep values.

    ``required`` defaults to True unless a ``default`` (or ``default_factory``) is given;
    ``input_name``/``output_name`` rename the field in serialized data; ``exclude`` leaves it out.
    """

    field: str
    model: type[Record] | None
    coerce: bool = False
    exclude: bool = False

    def __init__(self, *, field: str | None = None, input_name: str | None = None,
                 output_name: str | None = None, type: Any = None, model: Any = None,
                 required: bool | None = None, default: Any = _MISSING,
                 default_factory: Callable[[], Any] | None = None, parent: Any = None,
                 coerce: bool | None = None, exclude: bool | None = None,
                 date_parser: Callable[[Any], _dt.datetime] | None = None,
                 **options: Any) -> None:
        self.field = field or ""
        self.input_name = input_name or self.field
        self.output_name = output_name or self.input_name
        self._input_name_given = input_name
        self._output_name_given = output_name
        self.type = type
        self.model = model
        self.has_default = default is not _MISSING or default_factory is not None
        self.required = (not self.has_default) if required is None else required
        self.default = None if default is _MISSING else default
        self.default_factory = default_factory
        self.parent = parent
        if coerce is not None:
            self.coerce = coerce
        if exclude is not None:
            self.exclude = exclude
        self.date_parser = date_parser
        self.options = options
        self.related_models: set[type[Record]] = set()

    # -- descriptor protocol: non-data, so instance reads are plain dict lookups ------------------
    def __set_name__(self, owner: type, name: str) -> None:
        self.field = name
        self.input_name = self._input_name_given or name
        self.output_name = self._output_name_given or self.input_name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        try:
            return instance.__dict__[self.field]
        except KeyError:
            raise AttributeError(self.field) from None

    def attach(self, *, field: str, type: Any, model: type[Record], coerce: bool,
               date_parser: Callable[[Any], _dt.datetime] | None) -> None:
        """Bind the descriptor to its model once the class is complete."""
        self.__set_name__(model, field)
        self.type = type
        self.model = model
        if "coerce" not in self.__dict__:
            self.coerce = coerce
        if self.date_parser is None:
            self.date_parser = date_parser

    def clone(self, **kwargs: Any) -> FieldDescriptor[T]:
        """A copy with some attributes changed (Faust's ``clone``): subclasses get their own."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__.update(kwargs)
        new.related_models = set(self.related_models)
        return new

    def make_default(self) -> Any:
        """A fresh default per instance, so mutable defaults are never shared."""
        if self.default_factory is not None:
            return self.default_factory()
        return _copy_default(self.default)

    # -- values ------------------------------------------------------------------------------------
    def should_coerce(self, value: Any, coerce: bool | None = None) -> bool:
        """Faust's rule: coerce when asked and the value is present (or the field is required)."""
        c = self.coerce if coerce is None else coerce
        return c and (self.required or value is not None)

    def prepare_value(self, value: Any, *, coerce: bool | None = None) -> Any:
        """Convert ``value`` to the field's Python type when coercion is on."""
        return value

    def validate(self, value: Any) -> Iterator[ValidationError]:
        """Yield the constraint violations of a present, prepared value."""
        return iter(())

    def validate_all(self, value: Any) -> Iterator[ValidationError]:
        """Type check (by preparing the value) and then the field's constraints."""
        if value is None:
            if self.required:
                yield self.validation_error(f"{self.field} is required, got None")
            return
        try:
            prepared = self.prepare_value(value, coerce=True)
        except (TypeError, ValueError, ArithmeticError) as exc:
            yield self.validation_error(f"{self.field} is not correct type for {self}, "
                                        f"got {type(value)!r}: {exc!r}")
            return
        yield from self.validate(prepared)

    def validation_error(self, reason: str) -> ValidationError:
        return ValidationError(reason, field=self)

    def getattr(self, obj: Any) -> Any:
        """The value of this (possibly nested) field on ``obj``: ``Order.item.name.getattr(o)``."""
        path = []
        node: Any = self
        while node is not None:
            path.append(node.field)
            node = node.parent
        for name in reversed(path):
            obj = getattr(obj, name)
        return obj

    @property
    def ident(self) -> str:
        """``Model.field``, for messages."""
        model = self.model.__name__ if self.model is not None else "?"
        return f"{model}.{self.field}"

    def __repr__(self) -> str:
        default = "" if self.required else f" = {self.default!r}"
        typ = getattr(self.type, "__name__", self.type)
        return f"<{type(self).__name__}: {self.ident}: {typ}{default}>"


def _copy_default(value: Any) -> Any:
    if isinstance(value, (list, dict, set, bytearray)):
        import copy

        return copy.deepcopy(value)
    return value


class BooleanField(FieldDescriptor[bool]):
    """A bool; with coercion any value becomes its truth value."""

    def prepare_value(self, value: Any, *, coerce: bool | None = None) -> Any:
        if self.should_coerce(value, coerce):
            return bool(value)
        return value

    def validate(self, value: Any) -> Iterator[ValidationError]:
        if not isinstance(value, bool):
            yield self.validation_error(f"{self.field} must be True or False, of type bool")


class NumberField(FieldDescriptor[T]):
    """A number with optional ``min_value`` / ``max_value`` bounds (inclusive)."""

    def __init__(self, *, max_value: Any = None, min_value: Any = None, **kwargs: Any) -> None:
        self.max_value = max_value
        self.min_value = min_value
        super().__init__(**kwargs)

    def validate(self, value: Any) -> Iterator[ValidationError]:
        if self.max_value is not None and value > self.max_value:
            yield self.validation_error(f"{self.field} cannot be more than {self.max_value}")
        if self.min_value is not None and value < self.min_value:
            yield self.validation_error(f"{self.field} must be at least {self.min_value}")


class IntegerField(NumberField[int]):
    """An int."""

    def prepare_value(self, value: Any, *, coerce: bool | None = None) -> Any:
        if self.should_coerce(value, coerce) and not isinstance(value, int):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(f"{value!r} is not an integral number")
            return int(value)
        return value


class FloatField(NumberField[float]):
    """A float."""

    def prepare_value(self, value: Any, *, coerce: bool | None = None) -> Any:
        if self.should_coerce(value, coerce) and not isinstance(value, float):
            return float(value)
        return value


class DecimalField(NumberField[decimal.Decimal]):
    """An exact decimal with optional ``max_digits`` / ``max_decimal_places`` (money amounts)."""

    def __init__(self, *, max_digits: int | None = None, max_decimal_places: int | None = None,
                 **kwargs: Any) -> None:
        self.max_digits = max_digits
        self.max_decimal_places = max_decimal_places
        super().__init__(**kwargs)

    def prepare_value(self, value: Any, *, coerce: bool | None = None) -> Any:
        if self.should_coerce(value, coerce) and not isinstance(value, decimal.Decimal):
            return to_decimal(value)
        return value

    def validate(self, value: Any) -> Iterator[ValidationError]:
        if not value.is_finite():
            yield self.validation_error(f"Illegal value in decimal: {value!r}")
            return
        sign, digit_tuple, exponent = value.as_tuple()
        if exponent >= 0:
            digits = 0 if digit_tuple == (0,) else len(digit_tuple) + exponent
            places = 0
        else:
            places = -exponent
            digits = max(len(digit_tuple), places)
        if self.max_decimal_places is not None and places > self.max_decimal_places:
            yield self.validation_error(
                f"{self.field} must have less than {self.max_decimal_places} decimal places.")
        if self.max_digits is not None and digits > self.max_digits:
            yield self.validation_error(
                f"{self.field} must have less than {self.max_digits} digits.")
        yield from super().validate(value)


def to_decimal(value: Any) -> decimal.Decimal:
    """A Decimal from text or a number (floats by their shortest repr, so 0.1 stays 0.1)."""
    if isinstance(value, decimal.Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a bool is not a decimal")
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, str) and len(value) > 1000:
        raise ValueError(f"string of length {len(value)} is longer than limit (1000)")
    try:
        return decimal.Decimal(value)
    except decimal.InvalidOperation as exc:
        raise ValueError(f"{value!r} is not a decimal number") from exc


class CharField(FieldDescriptor[T]):
    """Text-like: ``min_length``/``max_length``, ``trim_whitespace``, ``allow_blank`` (False: an
    empty value fails validation, as in Faust)."""

    def __init__(self, *, max_length: int | None = None, min_length: int | None = None,
                 trim_whitespace: bool = False, allow_blank: bool = False,
                 **kwargs: Any) -> None:
        self.max_length = max_length
        self.min_length = min_length
        self.trim_whitespace = trim_whitespace
        self.allow_blank = allow_blank
        super().__init__(**kwargs)

    def validate(self, value: Any) -> Iterator[ValidationError]:
        length = len(value)
        if not self.allow_blank and not length:
            yield self.validation_error(f"{self.field} cannot be left blank")
        if self.min_length is not None and length < self.min_length:
            yield self.validation_error(f"{self.field} must have at least {self.min_length} "
                                        f"{_plural(self.min_length, 'character')}")
        if self.max_length is not None and length > self.max_length:
            yield self.validation_error(f"{self.field} must have at most {self.max_length} "
                                        f"{_plural(self.max_length, 'character')}")


class StringField(CharField[str]):
    """A str."""

    def prepare_value(self, value: Any, *, coerce: bool | None = None) -> Any:
        if self.should_coerce(value, coerce):
            text = value if isinstance(value, str) else str(value)
            return text.strip() if self.trim_whitespace else text
        return value


class BytesField(CharField[bytes]):
    """bytes; text is encoded with ``encoding`` (utf-8)."""

    def __init__(self, *, encoding: str = "utf-8", errors: str = "strict", **kwargs: Any) -> None:
        self.encoding = encoding
        self.errors = errors
        super().__init__(**kwargs)

    def prepare_value(self, value: Any, *, coerce: bool | None = None) -> Any:
        if self.should_coerce(value, coerce):
            data = value if isinstance(value, bytes) else (
                bytes(value) if isinstance(value, (bytearray, memoryview))
                else str(value).encode(self.encoding, self.errors))
            return data.strip() if self.trim_whitespace else data
        return value


class DatetimeField(FieldDescriptor[_dt.datetime]):
    """A datetime; text is parsed as ISO 8601 (or by the model's ``date_parser``)."""

    def prepare_value(self, value: Any, *, coerce: bool | None = None) -> Any:
        if self.should_coerce(value, coerce) and value is not None \
                and not isinstance(value, _dt.datetime):
            return (self.date_parser or parse_iso8601)(value)
        return value


def parse_iso8601(value: Any) -> _dt.datetime:
    """ISO 8601 / RFC 3339 text to datetime (``Z`` for UTC included), as Faust's iso8601.parse.

    msgspec's parser first (the fast loading path uses it, so both paths read the same instant
    from the same text, e.g. rounding beyond microseconds), then Python's for the forms only it
    accepts (a date alone, no seconds)."""
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, str):
        raise TypeError(f"cannot parse {type(value).__name__} {value!r} as an ISO 8601 datetime")
    try:
        return msgspec.convert(value, _dt.datetime)
    except msgspec.ValidationError:
        return _dt.datetime.fromisoformat(value)


#: Python type -> descriptor class, for fields declared with a plain annotation.
TYPE_TO_FIELD: dict[type, type[FieldDescriptor[Any]]] = {
    bool: BooleanField,
    int: IntegerField,
    float: FloatField,
    decimal.Decimal: DecimalField,
    str: StringField,
    bytes: BytesField,
    _dt.datetime: DatetimeField,
}


def field_for_type(typ: Any) -> type[FieldDescriptor[Any]]:
    """The descriptor class for an annotation (exact type first, then subclasses)."""
    found = TYPE_TO_FIELD.get(typ) if isinstance(typ, type) else None
    if found is not None:
        return found
    if isinstance(typ, type):
        for base, descriptor in TYPE_TO_FIELD.items():
            if issubclass(typ, base):
                return descriptor
    return FieldDescriptor
