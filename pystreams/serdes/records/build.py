"""Finalizing a Record class: read its annotations, make one FieldDescriptor per field, and
generate ``__init__``/``asdict``/the loader as plain Python functions (like dataclasses and
Faust do), so constructing and loading a record costs about what a hand-written class costs."""
from __future__ import annotations

import sys
import typing
from collections.abc import Callable
from typing import Any

from pystreams.serdes.records.coercion import build_converter, related_records, unwrap_optional
from pystreams.serdes.records.fields import FieldDescriptor, ValidationError, field_for_type
from pystreams.serdes.records.options import RecordOptions

_MUTABLE = (list, dict, set, bytearray)


def resolve_fields(cls: type, stop: type, localns: dict[str, Any]
                   ) -> tuple[dict[str, Any], list[str]]:
    """(name -> resolved type in MRO order, names declared on ``cls`` itself)."""
    owners = [c for c in reversed(cls.__mro__) if issubclass(c, stop) and c is not stop
              and c is not cls]
    owners.append(cls)
    names: list[str] = []
    for owner in owners:
        for name in owner.__dict__.get("__annotations__", {}):
            if name not in names:
                names.append(name)
    hints: dict[str, Any] = {}
    for owner in owners:
        module = sys.modules.get(owner.__module__)
        globalns = dict(vars(module)) if module else {}
        raw = owner.__dict__.get("__annotations__", {})
        ns = {**localns, owner.__name__: owner, cls.__name__: cls}
        for name, annotation in raw.items():
            if isinstance(annotation, str):
                annotation = typing.ForwardRef(annotation, is_argument=False, is_class=True)
            hints[name] = typing._eval_type(annotation, globalns, ns)  # type: ignore[attr-defined]
    fields = {}
    for name in names:
        tp = hints[name]
        if typing.get_origin(tp) is typing.ClassVar or tp is typing.ClassVar:
            continue
        fields[name] = tp
    local = [n for n in cls.__dict__.get("__annotations__", {}) if n in fields]
    return fields, local


def _declared_default(cls: type, name: str) -> Any:
    """The class attribute that declares ``name`` (a value, a FieldDescriptor, or missing)."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return _NO_DEFAULT


_NO_DEFAULT: Any = object()


def build_descriptors(cls: type, options: RecordOptions, fields: dict[str, Any],
                      local: list[str]) -> None:
    """One attached FieldDescriptor per field; defaults; Faust's defaults-order rule."""
    seen_default: list[str] = []
    for name in local:
        declared = cls.__dict__.get(name, _NO_DEFAULT)
        has_default = declared is not _NO_DEFAULT and not (
            isinstance(declared, FieldDescriptor) and not declared.has_default
            and declared.required)
        if has_default:
            seen_default.append(name)
        elif seen_default:
            raise TypeError(f"Non-default {cls.__name__} field {name} cannot follow default "
                            f"field{'s' if len(seen_default) > 1 else ''} "
                            f"{', '.join(seen_default)}")
    descriptors: dict[str, FieldDescriptor[Any]] = {}
    defaults: dict[str, Any] = {}
    for name, tp in fields.items():
        declared = _declared_default(cls, name)
        target, optional = unwrap_optional(tp)
        if isinstance(declared, FieldDescriptor):
            descr = declared.clone()
        else:
            descr = field_for_type(target)()
            if declared is not _NO_DEFAULT:
                descr.has_default, descr.required = True, False
                descr.default = declared
        if optional and not descr.has_default:
            descr.has_default, descr.required, descr.default = True, False, None
        descr.attach(field=name, type=tp, model=cls, coerce=options.coerce,
                     date_parser=options.date_parser)
        descr.related_models = related_records(tp)
        if descr.has_default:
            defaults[name] = descr.default
        setattr(cls, name, descr)
        descriptors[name] = descr
    required = [n for n, d in descriptors.items() if not d.has_default]
    optional_names = [n for n, d in descriptors.items() if d.has_default]
    options.fields = dict(fields)
    options.fieldset = frozenset(fields)
    options.fieldpos = dict(enumerate(required + optional_names))
    options.optionalset = frozenset(optional_names)
    options.defaults = defaults
    options.descriptors = descriptors


def field_loader(descr: FieldDescriptor[Any], options: RecordOptions) -> Callable[[Any], Any] | None:
    """Decoded data -> field value: type conversion, then the descriptor's coercion if on.
    A value that cannot be coerced is a ValidationError naming the field."""
    conv = build_converter(descr.type, coercions=options.coercions,
                           date_parser=descr.date_parser or options.date_parser,
                           polymorphic=options.polymorphic_fields)
    if not descr.coerce:
        return conv
    if typing.get_origin(unwrap_optional(descr.type)[0]) is not None:
        # e.g. `dates: List[datetime] = DatetimeField(coerce=True)`: the converter already
        # turned every element into the declared type; the descriptor is for one element.
        return conv
    prepare = descr.prepare_value

    def coerce(value: Any) -> Any:
        if value is None:
            return None
        try:
            if conv is not None:
                value = conv(value)
            return prepare(value)
        except (TypeError, ValueError, ArithmeticError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise descr.validation_error(f"{descr.field} is not correct type for {descr}, "
                                         f"got {type(value)!r}: {exc!r}") from exc
    return coerce


def build_init(cls: type, options: RecordOptions) -> Callable[..., None]:
    """Generate ``__init__``: positional order is required fields then fields with defaults
    (Faust's order); ``None`` for a field with a default means "use the default" (as Faust)."""
    names = list(options.fieldpos.values())
    descr = options.descriptors
    ns: dict[str, Any] = {"_unexpected": _unexpected}
    params = []
    strict_body, data_body = [], []
    for name in names:
        d = descr[name]
        loader = field_loader(d, options)
        load_expr = name
        if loader is not None:
            ns[f"_l_{name}"] = loader
            load_expr = f"_l_{name}({name})"
        strict_expr = load_expr if d.coerce else name
        if d.has_default:
            params.append(f"{name}=None")
            default_expr = _default_expr(name, d, ns)
            strict_body.append(f"        __d__[{name!r}] = {default_expr} if {name} is None "
                               f"else {strict_expr}")
            data_body.append(f"        __d__[{name!r}] = {default_expr} if {name} is None "
                             f"else {load_expr}")
        else:
            params.append(name)
            strict_body.append(f"        __d__[{name!r}] = {strict_expr}")
            data_body.append(f"        __d__[{name!r}] = {load_expr}")
    params += ["*", "__strict__=True", "__faust=None", "**kwargs"]
    lines = [f"def __init__(self, {', '.join(params)}):",
             "    __d__ = self.__dict__",
             "    if __strict__:",
             "        if kwargs:",
             "            _unexpected(self, kwargs)",
             *strict_body,
             "    else:",
             *data_body,  # unknown keys in data are ignored (Faust kept them as attributes)
             *_after_fields(cls, options)]
    return _compile("__init__", lines, ns, cls)


def _default_expr(name: str, d: FieldDescriptor[Any], ns: dict[str, Any]) -> str:
    """The expression for field `name`'s default, its value put in `ns` (a factory call when it is mutable)."""
    if d.default_factory is not None or isinstance(d.default, _MUTABLE):
        ns[f"_d_{name}"] = d.make_default
        return f"_d_{name}()"
    ns[f"_d_{name}"] = d.default
    return f"_d_{name}"


def _after_fields(cls: type, options: RecordOptions) -> list[str]:
    """What runs once every field is set: the class's __post_init__, then validation when asked for."""
    lines: list[str] = []
    if hasattr(cls, "__post_init__"):
        lines.append("    self.__post_init__()")
    if options.validation:
        lines.append("    self.validate_or_raise()")
    return lines


def build_fast_loader(cls: type, options: RecordOptions, slow: Callable[[Any], Any]
                      ) -> Callable[[Any], Any]:
    """Generate ``from_data`` for the common case (a dict naming this class or no class): fills
    the instance dict directly, no keyword-argument round trip. Anything else takes ``slow``."""
    ns: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_slow": slow,
                          "_ns": options.namespace, "_missing": _missing_field,
                          "_BLESSED": BLESSED}
    body = []
    for name in options.fieldpos.values():
        d = options.descriptors[name]
        key = d.input_name
        loader = field_loader(d, options)
        if loader is not None:
            ns[f"_l_{name}"] = loader
        if d.has_default:
            default_expr = _default_expr(name, d, ns)
            value = f"_l_{name}(v)" if loader is not None else "v"
            body += [f"    v = data.get({key!r})",
                     f"    __d__[{name!r}] = {default_expr} if v is None else {value}"]
        else:
            value = f"_l_{name}(data[{key!r}])" if loader is not None else f"data[{key!r}]"
            body += [f"    try:",
                     f"        __d__[{name!r}] = {value}",
                     f"    except KeyError:",
                     f"        if {key!r} in data:",
                     f"            raise",
                     f"        _missing(_cls, {name!r})"]
    lines = ["def from_data(data):",  # unknown keys are ignored, as by the msgspec path
             "    if type(data) is not dict:",
             "        return _slow(data)",
             "    meta = data.get(_BLESSED)",
             "    if meta is not None and (type(meta) is not dict or meta.get('ns') != _ns):",
             "        return _slow(data)",
             "    self = _new(_cls)",
             "    __d__ = self.__dict__",
             *body,
             *_after_fields(cls, options),
             "    return self"]
    return _compile("from_data", lines, ns, cls)


BLESSED = "__faust"


def _missing_field(cls: type, name: str) -> None:
    raise TypeError(f"__init__() missing 1 required positional argument: '{name}'")


def _unexpected(self: Any, kwargs: dict[str, Any]) -> None:
    n = len(kwargs)
    raise TypeError(f"{type(self).__name__} got unexpected argument{'s' if n > 1 else ''}: "
                    f"{', '.join(sorted(map(str, kwargs)))}")


def build_asdict(cls: type, options: RecordOptions) -> Callable[[Any], dict[str, Any]]:
    """Generate ``asdict``: {output_name: value} for every field not excluded."""
    items = [f"{d.output_name!r}: __d__[{name!r}]" for name, d in options.descriptors.items()
             if not d.exclude]
    lines = ["def asdict(self):",
             "    __d__ = self.__dict__",
             f"    return {{{', '.join(items)}}}"]
    return _compile("asdict", lines, {}, cls)


def build_input_translation(options: RecordOptions) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Data keys named by ``input_name`` -> field names (a copy; the input is not changed)."""
    renames = [(d.input_name, name) for name, d in options.descriptors.items()
               if d.input_name != name]
    if not renames:
        return lambda data: data

    def translate(data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        for src, dst in renames:
            if src in data:
                data[dst] = data.pop(src)
        return data
    return translate


def _compile(name: str, lines: list[str], ns: dict[str, Any], cls: type) -> Callable[..., Any]:
    source = "\n".join(lines)
    exec(compile(source, f"<pystreams record {cls.__qualname__}.{name}>", "exec"), ns)  # noqa: S102
    fn = ns[name]
    fn.__qualname__ = f"{cls.__qualname__}.{name}"
    fn.__module__ = cls.__module__
    fn.__sourcecode__ = source
    return fn  # type: ignore[no-any-return]
