"""Generated per-class JSON representation: the dict ``dumps`` hands to orjson, with nested
records, Decimals and sets already turned into JSON values by code written for the field types,
so orjson rarely has to call back into Python. The bytes are exactly those of
``orjson.dumps(record.to_representation(), default=json_default)`` (Faust's bytes); whatever the
generated code does not know (a value of another type than declared, ``Any``) is left for
orjson's default callback as before."""
from __future__ import annotations

import decimal
import typing
from collections import abc as cabc
from collections.abc import Callable
from typing import Any

from pystreams.serdes.records.coercion import is_record_type, unwrap_optional
from pystreams.serdes.records.options import RecordOptions

_LISTS = {list, cabc.Sequence, cabc.MutableSequence}
_SETS = {set, frozenset, cabc.Set, cabc.MutableSet}
_MAPS = {dict, cabc.Mapping, cabc.MutableMapping}


def _rep(value: Any) -> Any:
    """A nested record's JSON representation (any record, so subclasses keep their own)."""
    fn = getattr(value, "_json_repr_", None)
    return fn() if fn is not None else value


def _dec(value: Any) -> Any:
    return str(value) if type(value) is decimal.Decimal else value


class _Gen:
    def __init__(self) -> None:
        self.depth = 0

    def expr(self, tp: Any, var: str) -> str | None:
        """Source turning ``var`` (of declared type ``tp``) into its JSON value; None: as is."""
        inner, optional = unwrap_optional(tp)
        if optional:
            e = self.expr(inner, var)
            return None if e is None else f"(None if {var} is None else {e})"
        if is_record_type(tp):
            return f"_rep({var})"
        if isinstance(tp, type) and issubclass(tp, decimal.Decimal):
            return f"_dec({var})"
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin in _LISTS or origin in _SETS or (origin is tuple and args
                                                   and args[-1] is Ellipsis):
            self.depth += 1
            item = f"_x{self.depth}"
            e = self.expr(args[0], item) if args else None
            self.depth -= 1
            if e is None:
                return None  # orjson writes it (a set through the default callback, as before)
            kinds = "(list,)" if origin in _LISTS else "(set, frozenset)" if origin in _SETS \
                else "(tuple,)"
            # a value of another type than declared is left to orjson, exactly as before
            return f"([{e} for {item} in {var}] if type({var}) in {kinds} else {var})"
        if origin in _MAPS and len(args) == 2:
            self.depth += 1
            key, item = f"_k{self.depth}", f"_x{self.depth}"
            e = self.expr(args[1], item)
            self.depth -= 1
            if e is None:
                return None
            return (f"({{{key}: {e} for {key}, {item} in {var}.items()}} "
                    f"if type({var}) is dict else {var})")
        return None


def build_json_repr(cls: type, options: RecordOptions) -> Callable[[Any], dict[str, Any]]:
    """Generate ``_json_repr_``: ``to_representation()`` with values made JSON-ready."""
    gen = _Gen()
    ns: dict[str, Any] = {"_rep": _rep, "_dec": _dec, "_meta": {"ns": options.namespace}}
    items = []
    for name, descr in options.descriptors.items():
        if descr.exclude:
            continue
        e = gen.expr(descr.type, f"__d__[{name!r}]")
        items.append(f"{descr.output_name!r}: {e or f'__d__[{name!r}]'}")
    if options.include_metadata:
        items.append("'__faust': dict(_meta)")
    lines = ["def _json_repr_(self):",
             "    __d__ = self.__dict__",
             f"    return {{{', '.join(items)}}}"]
    source = "\n".join(lines)
    exec(compile(source, f"<pystreams record {cls.__qualname__}._json_repr_>", "exec"), ns)  # noqa: S102
    fn = ns["_json_repr_"]
    fn.__qualname__ = f"{cls.__qualname__}._json_repr_"
    fn.__sourcecode__ = source
    return fn  # type: ignore[no-any-return]
