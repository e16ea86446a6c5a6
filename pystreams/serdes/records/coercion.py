"""Compile a field's type annotation into one function that turns decoded data (JSON-ish dicts,
lists, strings) into the declared Python types: nested Records, datetime, Decimal, UUID, enums,
and lists/sets/tuples/dicts of them. Compiled once per class, so loading does no type inspection."""
from __future__ import annotations

import datetime as _dt
import decimal
import enum
import types
import typing
import uuid
from collections import abc as cabc
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeGuard

from pystreams.serdes.records.fields import parse_iso8601, to_decimal

if TYPE_CHECKING:
    from pystreams.serdes.records.record import Record

Converter = Callable[[Any], Any]

_NONE = type(None)
# typing.get_origin() gives the runtime classes: list for List[X], collections.abc.Sequence ...
_LIST_ORIGINS = {list, cabc.Sequence, cabc.MutableSequence, cabc.Iterable, cabc.Collection}
_SET_ORIGINS = {set, frozenset, cabc.Set, cabc.MutableSet}
_DICT_ORIGINS = {dict, cabc.Mapping, cabc.MutableMapping}


def unwrap_optional(tp: Any) -> tuple[Any, bool]:
    """(X, True) for Optional[X] / X | None; (tp, False) otherwise."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(tp) if a is not _NONE]
        if len(args) < len(typing.get_args(tp)):
            if len(args) == 1:
                return args[0], True
            return typing.Union[tuple(args)], True
    return tp, False


def is_record_type(tp: Any) -> TypeGuard[type[Record]]:
    """Whether `tp` is a Record class (by its marker, so no import of record.py is needed)."""
    return isinstance(tp, type) and bool(getattr(tp, "_pystreams_record_", False))


def related_records(tp: Any) -> set[type]:
    """Every Record class reachable from a type expression."""
    if is_record_type(tp):
        return {tp}
    found: set[type] = set()
    for arg in typing.get_args(tp):
        found |= related_records(arg)
    return found


def build_converter(tp: Any, *, coercions: Mapping[Any, Converter] | None = None,
                    date_parser: Callable[[Any], _dt.datetime] | None = None,
                    polymorphic: bool = False) -> Converter | None:
    """A function from decoded data to ``tp``; None when values pass through unchanged.

    With ``polymorphic`` (the model's ``polymorphic_fields``) a nested record whose payload names
    a registered subclass of the declared type (``__faust`` ns) loads as that subclass."""
    return _Builder(coercions or {}, date_parser, polymorphic).build(tp)


class _Builder:
    def __init__(self, coercions: Mapping[Any, Converter],
                 date_parser: Callable[[Any], _dt.datetime] | None, polymorphic: bool) -> None:
        self.coercions = coercions
        self.date_parser = date_parser or parse_iso8601
        self.polymorphic = polymorphic

    def build(self, tp: Any) -> Converter | None:
        if tp is Any or tp is object or isinstance(tp, typing.TypeVar):
            return None
        inner, optional = unwrap_optional(tp)
        if optional:
            conv = self.build(inner)
            if conv is None:
                return None
            return lambda v: None if v is None else conv(v)
        user = self._user(tp)
        if user is not None:
            return user
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            return self.build(typing.get_args(tp)[0])
        if origin is typing.Literal:
            return None
        if origin is typing.Union or origin is types.UnionType:
            return self._union(typing.get_args(tp))
        if origin is not None:
            return self._generic(origin, typing.get_args(tp))
        if not isinstance(tp, type):
            return None
        if is_record_type(tp):
            if self.polymorphic and not tp.__is_abstract__:
                from pystreams.serdes.records.registry import maybe_model_from

                return lambda v: maybe_model_from(v, (tp,), tp)
            return tp._from_data_field
        return self._scalar(tp)

    def _user(self, tp: Any) -> Converter | None:
        handler = self.coercions.get(tp)
        if handler is None and isinstance(tp, type):
            for typ, candidate in self.coercions.items():
                if isinstance(typ, tuple):
                    hit = tp in typ or any(isinstance(t, type) and issubclass(tp, t) for t in typ)
                else:
                    hit = isinstance(typ, type) and issubclass(tp, typ)
                if hit:
                    handler = candidate
                    break
        if handler is None:
            return None
        target = tp

        def user(v: Any, _h: Converter = handler) -> Any:
            if v is None or (isinstance(target, type) and isinstance(v, target)
                             and not isinstance(v, (str, int, float))):
                return v
            return _h(v)
        return user

    def _scalar(self, tp: type) -> Converter | None:
        if tp is float:  # JSON has one number type: a declared float comes back a float
            return lambda v: float(v) if type(v) is int else v
        if issubclass(tp, _dt.datetime):
            parse = self.date_parser
            return lambda v: v if v is None or isinstance(v, _dt.datetime) else parse(v)
        if issubclass(tp, _dt.date):
            return _to_date
        if issubclass(tp, _dt.time):
            return lambda v: v if v is None or isinstance(v, _dt.time) else _dt.time.fromisoformat(v)
        if issubclass(tp, decimal.Decimal):
            return lambda v: v if v is None or isinstance(v, decimal.Decimal) else to_decimal(v)
        if issubclass(tp, uuid.UUID):
            return lambda v: v if v is None or isinstance(v, uuid.UUID) else uuid.UUID(str(v))
        if issubclass(tp, enum.Enum):
            return lambda v: v if v is None or isinstance(v, tp) else tp(v)
        if issubclass(tp, bytes):
            return lambda v: v.encode() if isinstance(v, str) else v
        if issubclass(tp, tuple) and hasattr(tp, "_fields"):  # NamedTuple
            hints = typing.get_type_hints(tp)
            convs = [self.build(hints.get(f, Any)) for f in tp._fields]

            def named(v: Any) -> Any:
                if v is None or isinstance(v, tp):
                    return v
                items = v.values() if isinstance(v, Mapping) else v
                return tp(*[c(x) if c else x for c, x in zip(convs, items)])
            return named
        if tp in (set, frozenset):
            return lambda v: v if v is None else tp(v)
        if tp is tuple:
            return lambda v: v if v is None else tuple(v)
        return None

    def _union(self, args: tuple[Any, ...]) -> Converter | None:
        records = [a for a in args if is_record_type(a)]
        if records and len(records) == len(args):
            from pystreams.serdes.records.registry import maybe_model_from

            first = records[0]
            return lambda v: maybe_model_from(v, records, first)
        return None

    def _generic(self, origin: Any, args: tuple[Any, ...]) -> Converter | None:
        if origin in _LIST_ORIGINS:
            item = self.build(args[0]) if args else None
            return None if item is None else _list_of(item)
        if origin in _SET_ORIGINS:
            item = self.build(args[0]) if args else None
            make: Callable[[Any], Any] = frozenset if origin in (frozenset, cabc.Set) else set
            return _collection_of(make, item)
        if origin is tuple:
            if not args or (len(args) == 2 and args[1] is Ellipsis):
                return _collection_of(tuple, self.build(args[0]) if args else None)
            return _fixed_tuple([self.build(a) for a in args])
        if origin in _DICT_ORIGINS:
            key = self.build(args[0]) if args else None
            value = self.build(args[1]) if len(args) > 1 else None
            if key is None and value is None:
                return None
            return _dict_of(key or _identity, value or _identity)
        return None


def _list_of(item: Converter) -> Converter:
    return lambda v: v if v is None else [item(x) for x in v]


def _collection_of(make: Callable[[Any], Any], item: Converter | None) -> Converter:
    if item is None:
        return lambda v: v if v is None else make(v)
    return lambda v: v if v is None else make(item(x) for x in v)


def _fixed_tuple(convs: list[Converter | None]) -> Converter:
    return lambda v: v if v is None else tuple(c(x) if c else x for c, x in zip(convs, v))


def _dict_of(key: Converter, value: Converter) -> Converter:
    return lambda v: v if v is None else {key(k): value(x) for k, x in v.items()}


def _identity(v: Any) -> Any:
    return v


def _to_date(v: Any) -> Any:
    if v is None or (isinstance(v, _dt.date) and not isinstance(v, _dt.datetime)):
        return v
    if isinstance(v, _dt.datetime):
        return v.date()
    text = str(v)
    # Faust writes dates as midnight datetimes ("2024-01-02T00:00:00").
    return (_dt.datetime.fromisoformat(text).date() if "T" in text
            else _dt.date.fromisoformat(text))
