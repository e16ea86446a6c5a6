"""hypothesis strategies that draw message bodies straight from the codec's own schema data, so
every field of every version is exercised (used by the round-trip and kio oracle properties)."""
from __future__ import annotations

import uuid
from typing import Any

from hypothesis import strategies as st

from pystreams.broker.protocol.schema import ZERO_UUID, F, in_range

INT_RANGES = {"int8": (-(2**7), 2**7 - 1), "int16": (-(2**15), 2**15 - 1), "int32": (-(2**31), 2**31 - 1),
              "int64": (-(2**63), 2**63 - 1), "uint16": (0, 2**16 - 1), "uint32": (0, 2**32 - 1)}


def _ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    # mostly small values (and Kafka's -1 sentinels), sometimes the extremes
    return st.one_of(st.integers(-1, 3).filter(lambda v: lo <= v <= hi), st.integers(lo, hi))


def value_strategy(f: F, version: int, elem_only: bool = False, error_codes: list[int] | None = None,
                   int64_bounds: tuple[int, int] | None = None) -> st.SearchStrategy[Any]:
    """Values of field `f` at `version` in the codec's dict representation."""
    nullable = in_range(version, f.nullable)
    if f.is_array and not elem_only:
        inner = st.lists(value_strategy(f, version, True, error_codes, int64_bounds), max_size=3)
        return st.one_of(st.none(), inner) if nullable else inner
    if f.is_struct:
        assert f.fields is not None
        struct = body_strategy(f.fields, version, error_codes, int64_bounds)
        return st.one_of(st.none(), struct) if nullable and not elem_only else struct
    t = f.elem
    base: st.SearchStrategy[Any]
    if t == "int16" and f.name.endswith("error_code") and error_codes:
        base = st.sampled_from(error_codes)
    elif t == "int64" and int64_bounds is not None:
        base = _ints(*int64_bounds)
    elif t in INT_RANGES:
        base = _ints(*INT_RANGES[t])
    elif t == "float64":
        base = st.floats(allow_nan=False, allow_infinity=False)
    elif t == "bool":
        base = st.booleans()
    elif t == "string":
        base = st.text(max_size=12)
    elif t in ("bytes", "records"):
        base = st.binary(max_size=40)
    elif t == "uuid":
        base = st.one_of(st.just(ZERO_UUID), st.uuids().map(lambda u: uuid.UUID(bytes=u.bytes)))
    else:
        raise AssertionError(t)
    return st.one_of(st.none(), base) if nullable and not elem_only else base


def body_strategy(fields: tuple[F, ...], version: int, error_codes: list[int] | None = None,
                  int64_bounds: tuple[int, int] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """A dict holding every field present at `version` (absent fields are left to the codec)."""
    return st.fixed_dictionaries({f.name: value_strategy(f, version, False, error_codes, int64_bounds)
                                  for f in fields if in_range(version, f.versions)})


def normalise(value: Any) -> Any:
    """Decoded values with buffers as bytes, for equality checks."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, (memoryview, bytearray)):
        return bytes(value)
    return value


def expected(fields: tuple[F, ...], version: int, body: dict[str, Any]) -> dict[str, Any]:
    """What decoding `body` must give: the drawn values, plus Kafka's defaults for absent fields."""
    out: dict[str, Any] = {}
    for f in fields:
        if not in_range(version, f.versions):
            out[f.name] = f.default_value(version)
            continue
        v = body[f.name]
        if f.fields is not None and v is not None:
            v = [expected(f.fields, version, x) for x in v] if f.is_array else expected(f.fields, version, v)
        out[f.name] = v
    return out
