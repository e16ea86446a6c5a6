"""The namespace registry: ``{"__faust": {"ns": "module.Class"}}`` in data names the Record class
to load it as (polymorphic payloads, Faust's "blessed key"). Only registered Record classes can be
named, so data can never make us import or call anything else."""
from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pystreams.serdes.records.record import Record

#: namespace -> Record class; every concrete Record registers itself when defined.
registry: MutableMapping[str, type[Record]] = {}

BLESSED_KEY = "__faust"


def namespace_of(data: Any) -> str | None:
    """The namespace a payload names, if any."""
    if isinstance(data, dict):
        meta = data.get(BLESSED_KEY)
        if isinstance(meta, dict):
            ns = meta.get("ns")
            return ns if isinstance(ns, str) else None
    return None


def maybe_model(arg: Any) -> Any:
    """A Record if ``arg`` is a payload naming a registered model, else ``arg`` unchanged."""
    ns = namespace_of(arg)
    model = registry.get(ns) if ns is not None else None
    return model.from_data(arg) if model is not None else arg


def maybe_model_from(value: Any, candidates: Iterable[type], fallback: type[Record]) -> Any:
    """For ``A | B`` fields of Records: the candidate the payload names, else ``fallback``."""
    if value is None or getattr(value, "_pystreams_record_", False):
        return value
    ns = namespace_of(value)
    model = registry.get(ns) if ns is not None else None
    if model is not None and any(issubclass(model, c) for c in candidates):
        return model.from_data(value, preferred_type=model)
    return fallback._from_data_field(value)


_BLESSED: set[bytes] = set()


def note_blessed_model(namespace: str) -> None:
    """A model with allow_blessed_key / polymorphic_fields: a payload naming it may load as it
    instead of the class asked for, which only the Python loading path decides."""
    _BLESSED.add(f'"{namespace}"'.encode())


def may_name_blessed_model(data: bytes) -> bool:
    """Whether JSON bytes might name such a model (its namespace appears, or escapes that could
    spell it): then the Python loading path must decide."""
    if not _BLESSED:
        return False
    return b"\\u" in data or any(ns in data for ns in _BLESSED)
