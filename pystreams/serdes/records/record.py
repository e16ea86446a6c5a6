"""``Record``: typed, Faust-compatible data models (``class Order(Record, serializer="json")``).

Faust's class options, field classes, dumps/loads/to_representation/from_data and the ``__faust``
namespace metadata work as in faust-streaming, so a Faust model ports by changing the import and
both libraries read each other's records (byte-identical JSON for the same model).

Beyond Faust, and where we differ on purpose:
- constructors type-check under mypy/pyright (PEP 681 ``dataclass_transform``); give
  ``Optional`` fields an explicit ``= None`` (Faust's implicit None default works at run time
  but type checkers cannot see it);
- a field class with ``default=`` is optional (Faust: required unless ``required=False``);
- declared types are always restored on load: datetime, Decimal, UUID, enums, sets, tuples,
  nested Records (Faust needs ``isodates``/``decimals``; both are accepted and implied), and a
  declared float comes back a float;
- mutable defaults are copied per instance; ``frozen=True`` is supported;
- ``polymorphic_fields=True`` on the containing model loads the registered subclass a nested
  payload names (Faust's user guide example); unknown keys in data are ignored (Faust kept them
  as attributes, never writing them back); the ``pickle`` codec is refused (it runs code).
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, TypeGuard, TypeVar

from typing_extensions import Self, dataclass_transform

from pystreams.errors import SerdeError
from pystreams.serdes.records import codecs
from pystreams.serdes.records.build import (
    build_asdict,
    build_descriptors,
    build_fast_loader,
    build_init,
    build_input_translation,
    resolve_fields,
)
from pystreams.serdes.records.fields import ValidationError
from pystreams.serdes.records import field_classes as _fc  # PEP 681 field specifiers for type checkers
from pystreams.serdes.records.options import RecordOptions
from pystreams.serdes.records.dumping import build_json_repr
from pystreams.serdes.records.fastjson import json_decoder
from pystreams.serdes.records.registry import (
    BLESSED_KEY,
    may_name_blessed_model,
    namespace_of,
    note_blessed_model,
    registry,
)


R = TypeVar("R", bound="Record")

E_ABSTRACT = ("Cannot instantiate abstract model {name}. If it is the type of another model's "
              "field and you want a polymorphic relationship, declare it with "
              "`class {name}(Record, abstract=True, polymorphic_fields=True)`.")


class FrozenRecordError(AttributeError, SerdeError):
    """A field of a ``frozen=True`` Record was assigned."""


def _main_name() -> str:
    main = sys.modules.get("__main__")
    filename = getattr(main, "__file__", None)
    if not filename:
        return "__main__"
    from pathlib import Path

    return Path(filename).stem


def _canoname(cls: type) -> str:
    """Faust's default namespace: ``module.QualName`` (``__main__`` resolved to the script)."""
    module = cls.__module__
    if module == "__main__":
        module = _main_name()
    return f"{module}.{cls.__qualname__}"


def _defining_frame() -> Any:
    """The frame of the scope defining the class (None at module level), so annotations naming
    classes local to a function resolve, even ones defined after this class (lazy_creation)."""
    frame = sys._getframe(1)
    here = __name__
    while frame is not None and frame.f_globals.get("__name__") == here:
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None or frame.f_code.co_name == "<module>":
        return None
    return frame


@dataclass_transform(field_specifiers=(_fc.FieldDescriptor, _fc.BooleanField, _fc.NumberField,
                                       _fc.IntegerField, _fc.FloatField, _fc.DecimalField, _fc.CharField,
                                       _fc.StringField, _fc.BytesField, _fc.DatetimeField))
class Record:
    """Base class of typed records; subclass it with type-annotated fields."""

    _pystreams_record_: ClassVar[bool] = True
    __is_model__: ClassVar[bool] = True
    __is_abstract__: ClassVar[bool] = True
    _blessed_key: ClassVar[str] = BLESSED_KEY
    _options: ClassVar[RecordOptions] = RecordOptions(serializer="json", namespace="Record")
    _pending_: ClassVar[bool] = False
    _frame_: ClassVar[Any] = None
    _input_translate_fields: ClassVar[Callable[[dict[str, Any]], dict[str, Any]]]
    # set per class by make_final:
    _model_init: ClassVar[Callable[..., None]]
    _json_repr_: ClassVar[Callable[..., Any]]
    _field_names_: ClassVar[tuple[str, ...]]
    _fast_from_data_: ClassVar[Callable[[Any], Any] | None]

    def __init_subclass__(cls, serializer: str | None = None, namespace: str | None = None,
                          include_metadata: bool | None = None, isodates: bool | None = None,
                          abstract: bool = False, allow_blessed_key: bool | None = None,
                          decimals: bool | None = None, coerce: bool | None = None,
                          coercions: Mapping[Any, Callable[[Any], Any]] | None = None,
                          polymorphic_fields: bool | None = None,
                          validation: bool | None = None,
                          date_parser: Callable[[Any], Any] | None = None,
                          lazy_creation: bool = False, frozen: bool | None = None,
                          **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        options = cls._options.clone_defaults()
        custom = cls.__dict__.get("Options")
        if custom is not None:
            for key, value in vars(custom).items():
                if not key.startswith("__") and hasattr(options, key):
                    setattr(options, key, value)
            delattr(cls, "Options")
        given = {"serializer": serializer, "include_metadata": include_metadata,
                 "isodates": isodates, "decimals": decimals, "coerce": coerce,
                 "allow_blessed_key": allow_blessed_key,
                 "polymorphic_fields": polymorphic_fields, "validation": validation,
                 "date_parser": date_parser, "frozen": frozen}
        for key, value in given.items():
            if value is not None:
                setattr(options, key, value)
        if coercions:
            options.coercions.update(coercions)
        if validation:
            options.coerce = True  # validation implies coercion, as in Faust
        options.namespace = namespace or _canoname(cls)
        cls._options = options
        cls._frame_ = _defining_frame()
        if abstract:
            cls.__is_abstract__ = True
            cls._pending_ = False
            cls._frame_ = None
            cls.__init__ = Record.__abstract_init__  # type: ignore[method-assign]
            return
        cls.__is_abstract__ = False
        registry[options.namespace] = cls
        if options.allow_blessed_key or options.polymorphic_fields:
            note_blessed_model(options.namespace)
        cls._pending_ = True
        if "__init__" not in cls.__dict__:
            cls.__init__ = Record.__pending_init__  # type: ignore[method-assign]
        if not lazy_creation:
            try:
                cls.make_final()
            except NameError:
                pass  # a forward reference to a class not defined yet: finalize on first use

    @classmethod
    def make_final(cls) -> None:
        """Resolve annotations and generate the methods (Faust's name; runs once per class)."""
        if not cls._pending_:
            return
        options = cls._options
        localns: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            frame = klass.__dict__.get("_frame_")
            if frame is not None:
                localns.update(frame.f_locals)
        fields, local = resolve_fields(cls, Record, localns)
        build_descriptors(cls, options, fields, local)
        for reserved in ("self", "kwargs"):
            if reserved in fields:
                raise TypeError(f"{cls.__name__}: a field cannot be named {reserved!r}")
        init = build_init(cls, options)
        if cls.__dict__.get("__init__") in (None, Record.__pending_init__):
            cls.__init__ = init  # type: ignore[method-assign]
        cls._model_init = init
        cls.asdict = build_asdict(cls, options)  # type: ignore[method-assign,assignment]
        cls._json_repr_ = build_json_repr(cls, options)
        cls._input_translate_fields = staticmethod(
            build_input_translation(options))
        if options.frozen:
            cls.__setattr__ = Record.__frozen_setattr__  # type: ignore[method-assign,assignment]
            cls.__delattr__ = Record.__frozen_setattr__  # type: ignore[method-assign,assignment]
        cls._field_names_ = tuple(options.fields)
        fast = None
        if cls.__dict__.get("__init__") is init:  # no user __init__: load without calling it
            fast = build_fast_loader(cls, options, lambda data: cls._load_slow(data, cls))
        cls._fast_from_data_ = fast
        cls._pending_ = False
        cls._frame_ = None  # resolved: do not keep the defining scope alive

    def __pending_init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        cls.make_final()
        cls._model_init(self, *args, **kwargs)

    def __abstract_init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(E_ABSTRACT.format(name=type(self).__name__))

    def __frozen_setattr__(self, name: str, *value: Any) -> None:
        raise FrozenRecordError(f"cannot assign to field {name!r}: "
                                f"{type(self).__name__} is frozen")

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # replaced per class
        raise TypeError(E_ABSTRACT.format(name=type(self).__name__))

    # -- loading ------------------------------------------------------------------------------------
    @classmethod
    def _maybe_namespace(cls, data: Any, *, preferred_type: type | None = None) -> type[Record] | None:
        """The class a payload's ``__faust`` namespace selects, under Faust's rules: only for an
        abstract target type, or when the named model allows blessed keys / polymorphism."""
        ns = namespace_of(data)
        if ns is None:
            return None
        type_is_abstract = preferred_type is None or preferred_type is Record or getattr(
            preferred_type, "__is_abstract__", False)
        model = registry.get(ns)
        if model is None:
            if type_is_abstract:
                raise SerdeError(f"no Record class is registered for namespace {ns!r}: "
                                 f"import the module that defines it before loading")
            return None
        opts = model._options
        if type_is_abstract or opts.allow_blessed_key or opts.polymorphic_fields:
            return model
        return None

    @classmethod
    def from_data(cls, data: Mapping[str, Any], *,
                  preferred_type: type | None = None) -> Self:
        """A record from decoded data (a dict), converting values to the declared types."""
        if cls._pending_:
            cls.make_final()
        fast = cls.__dict__.get("_fast_from_data_")
        try:
            if fast is not None and (preferred_type is None or preferred_type is cls):
                return fast(data)  # type: ignore[no-any-return]
            return cls._load_slow(data, preferred_type)
        except SerdeError:
            raise
        except TypeError as exc:
            raise SerdeError(f"cannot load {cls.__name__} from data: {exc}") from exc
        except Exception as exc:  # ValueError, AttributeError (a list for a dict) ...
            raise SerdeError(f"cannot load {cls.__name__}: a value does not fit its declared "
                             f"type ({type(exc).__name__}: {exc})") from exc

    @classmethod
    def _load_slow(cls, data: Any, preferred_type: type | None) -> Self:
        """Every case: records passed through, namespaces, input names, user ``__init__``."""
        if getattr(data, "_pystreams_record_", False):
            return data  # type: ignore[no-any-return]
        if not isinstance(data, Mapping):
            raise SerdeError(f"{cls.__name__}.from_data needs a mapping, "
                             f"got {type(data).__name__}: {data!r:.80}")
        target = cls._maybe_namespace(data, preferred_type=preferred_type or cls) or cls
        if target.__is_abstract__:
            raise SerdeError(f"cannot load abstract {target.__name__} from data without a "
                             f"{BLESSED_KEY!r} namespace naming a concrete Record")
        if target._pending_:
            target.make_final()
        data = target._input_translate_fields(dict(data))
        # an abstract cls loads whichever registered model the payload's namespace names
        return target(**data, __strict__=False)  # type: ignore[return-value]

    @classmethod
    def _from_data_field(cls, data: Any) -> Any:
        """Load a nested field: abstract types resolve through the namespace registry."""
        if data is None or getattr(data, "_pystreams_record_", False):
            return data
        if cls.__is_abstract__:
            model = cls._maybe_namespace(data)
            return model.from_data(data) if model else data
        return cls.from_data(data, preferred_type=cls)

    @classmethod
    def loads(cls, s: bytes, *, default_serializer: str | None = None,
              serializer: str | None = None) -> Self:
        """Decode bytes written by ``dumps`` (or by a Faust app) into a record."""
        codec = cls._options.serializer or serializer or default_serializer
        if codec is None or codec == "json":
            fast = cls.__dict__.get("_msgspec_decoder_")
            if fast is None and "_msgspec_decoder_" not in cls.__dict__:
                fast = json_decoder(cls)
            if fast is not None and isinstance(s, bytes) and not may_name_blessed_model(s):
                try:
                    return fast(s)  # type: ignore[no-any-return]
                except Exception:  # noqa: BLE001 - whatever msgspec refuses (ValidationError,
                    pass           # DecodeError, ...): the Python path decides and reports
        try:
            data = codecs.loads(codec, s)
        except SerdeError:
            raise
        except Exception as exc:
            raise SerdeError(f"cannot decode {cls.__name__} with serializer {codec!r}: "
                             f"{exc}") from exc
        return cls.from_data(data)

    # -- dumping ------------------------------------------------------------------------------------
    def asdict(self) -> dict[str, Any]:  # replaced per class by a generated function
        """Field values by output name (nested records stay records)."""
        raise NotImplementedError

    def to_representation(self) -> dict[str, Any]:
        """A JSON-ready dict: ``asdict()`` plus ``__faust`` metadata when include_metadata."""
        payload = self.asdict()
        options = self._options
        if options.include_metadata:
            payload[BLESSED_KEY] = {"ns": options.namespace}
        return payload

    def dumps(self, *, serializer: str | None = None) -> bytes:
        """Encode with the model's serializer (json unless the class says otherwise)."""
        codec = serializer or self._options.serializer
        try:
            if codec is None or codec == "json":  # the generated JSON-ready representation
                return codecs.dumps("json", self._json_repr_())
            return codecs.dumps(codec, self.to_representation())
        except SerdeError:
            raise
        except Exception as exc:
            raise SerdeError(f"cannot encode {type(self).__name__} with serializer "
                             f"{codec or 'json'!r}: {exc}") from exc

    def __json__(self) -> Any:
        return self.to_representation()

    def derive(self, *objects: Record, **fields: Any) -> Self:
        """A copy with fields taken from ``objects`` and then ``fields``."""
        data = self._field_values()
        for obj in objects:
            data.update(obj._field_values())
        data.update(fields)
        return type(self)(**data)

    def _field_values(self) -> dict[str, Any]:
        d = self.__dict__
        return {name: d[name] for name in self._field_names_ if name in d}

    # -- validation ---------------------------------------------------------------------------------
    def validate(self) -> list[ValidationError]:
        """Every constraint violation of this record (empty when valid)."""
        return list(self._itervalidate())

    def _itervalidate(self) -> Iterator[ValidationError]:
        d = self.__dict__
        for name, descr in self._options.descriptors.items():
            yield from descr.validate_all(d.get(name))

    def is_valid(self) -> bool:
        return not self.validate()

    @property
    def validation_errors(self) -> list[ValidationError]:
        return self.validate()

    def validate_or_raise(self) -> None:
        """Raise the first ValidationError, if any."""
        for error in self._itervalidate():
            raise error

    # -- comparison ---------------------------------------------------------------------------------
    def _key(self) -> tuple[Any, ...]:
        d = self.__dict__
        return tuple(d.get(n) for n in self._field_names_)

    def _comparable(self, other: object) -> TypeGuard[Record]:
        return isinstance(other, Record) and (isinstance(other, type(self))
                                              or isinstance(self, type(other)))

    def __eq__(self, other: object) -> bool:
        if not self._comparable(other):
            return NotImplemented
        return self._key() == other._key()

    def __ne__(self, other: object) -> bool:
        if not self._comparable(other):
            return NotImplemented
        return self._key() != other._key()

    def __lt__(self, other: Any) -> bool:
        if not self._comparable(other):
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other: Any) -> bool:
        if not self._comparable(other):
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other: Any) -> bool:
        if not self._comparable(other):
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other: Any) -> bool:
        if not self._comparable(other):
            return NotImplemented
        return self._key() >= other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        d = self.__dict__
        shown = ", ".join(f"{n}={d[n]!r}" for n in self._field_names_ if n in d)
        return f"<{type(self).__name__}: {shown}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), dict(self.__dict__)))


def _rebuild(cls: type, state: dict[str, Any]) -> Any:
    obj: Any = object.__new__(cls)
    obj.__dict__.update(state)
    return obj
