"""What type checkers see for the field classes: functions returning ``Any``, so that
``name: str = StringField(max_length=10)`` type-checks as a field of type ``str`` (PEP 681 field
specifiers; dataclasses' ``field()`` is typed the same way). At run time these names are the
FieldDescriptor classes of ``fields.py``; this module is only imported under TYPE_CHECKING."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


def FieldDescriptor(*, default: Any = ..., default_factory: Callable[[], Any] | None = None,  # noqa: N802
                    required: bool | None = None, input_name: str | None = None,
                    output_name: str | None = None, exclude: bool | None = None,
                    coerce: bool | None = None, **options: Any) -> Any: ...


def BooleanField(*, default: Any = ..., default_factory: Callable[[], Any] | None = None,  # noqa: N802
                 required: bool | None = None, **options: Any) -> Any: ...


def NumberField(*, default: Any = ..., default_factory: Callable[[], Any] | None = None,  # noqa: N802
                required: bool | None = None, max_value: Any = None, min_value: Any = None,
                **options: Any) -> Any: ...


def IntegerField(*, default: Any = ..., default_factory: Callable[[], Any] | None = None,  # noqa: N802
                 required: bool | None = None, max_value: int | None = None,
                 min_value: int | None = None, **options: Any) -> Any: ...


def FloatField(*, default: Any = ..., default_factory: Callable[[], Any] | None = None,  # noqa: N802
               required: bool | None = None, max_value: float | None = None,
               min_value: float | None = None, **options: Any) -> Any: ...


def DecimalField(*, default: Any = ..., default_factory: Callable[[], Any] | None = None,  # noqa: N802
                 required: bool | None = None, max_digits: int | None = None,
                 max_decimal_places: int | None = None, max_value: Any = None,
                 min_value: Any = None, **options: Any) -> Any: ...


def CharField(*, default: Any = ..., default_factory: Callable[[], Any] | None = None,  # noqa: N802
              required: bool | None = None, max_length: int | None = None,
              min_length: int | None = None, trim_whitespace: bool = False,
              allow_blank: bool = False, **options: Any) -> Any: ...


def StringField(*, default: Any = ..., default_factory: Callable[[], Any] | None = None,  # noqa: N802
                required: bool | None = None, max_length: int | None = None,
                min_length: int | None = None, trim_whitespace: bool = False,
                allow_blank: bool = False, **options: Any) -> Any: ...


def BytesField(*, default: Any = ..., default_factory: Callable[[], Any] | None = None,  # noqa: N802
               required: bool | None = None, max_length: int | None = None,
               min_length: int | None = None, encoding: str = "utf-8", errors: str = "strict",
               **options: Any) -> Any: ...


def DatetimeField(*, default: Any = ..., default_factory: Callable[[], Any] | None = None,  # noqa: N802
                  required: bool | None = None, date_parser: Callable[[Any], Any] | None = None,
                  **options: Any) -> Any: ...
