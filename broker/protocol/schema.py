"""The compact schema language the message modules are written in (our own data, transcribed from
Kafka's message JSON): a message is a tuple of fields, a field has a name, a Kafka type, the
versions it exists in, optional nullable versions, tag and default. The compiler turns a
(message, version) pair into encode/decode functions once."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

MAX_VERSION = 0x7FFF
PRIMITIVES = frozenset({"int8", "int16", "int32", "int64", "uint16", "uint32", "float64", "bool",
                        "string", "bytes", "records", "uuid"})
ZERO_UUID = uuid.UUID(int=0)


def parse_versions(text: str | None) -> tuple[int, int] | None:
    """Kafka's version range syntax ("3+", "0-7", "5", "none") as an inclusive (lo, hi) tuple."""
    if text is None or text == "none":
        return None
    if text.endswith("+"):
        return int(text[:-1]), MAX_VERSION
    lo, _, hi = text.partition("-")
    return int(lo), int(hi or lo)


def in_range(version: int, rng: tuple[int, int] | None) -> bool:
    return rng is not None and rng[0] <= version <= rng[1]


_UNSET: Any = object()


class F:
    """One field of a message or nested struct, as Kafka's JSON declares it."""

    __slots__ = ("name", "type", "versions", "nullable", "tag", "tagged", "default", "fields",
                 "elem", "is_array")

    def __init__(self, name: str, type: str, versions: str, *, nullable: str | None = None,
                 tag: int | None = None, tagged: str | None = None, default: Any = _UNSET,
                 fields: tuple[F, ...] | None = None) -> None:
        self.name = name
        self.type = type
        self.versions = parse_versions(versions)
        self.nullable = parse_versions(nullable)
        self.tag = tag
        self.tagged = parse_versions(tagged) if tagged is not None else (
            self.versions if tag is not None else None)
        self.default = default
        self.fields = fields
        self.is_array = type.startswith("[]")
        self.elem = type[2:] if self.is_array else type
        if self.elem not in PRIMITIVES and fields is None:
            raise ValueError(f"struct field {name} needs fields")

    @property
    def is_struct(self) -> bool:
        return self.fields is not None

    def default_value(self, version: int) -> Any:
        """Kafka's default for this field in `version` (a fresh object for mutable values)."""
        if self.is_array:
            return None if self.default is None else []
        if self.is_struct:
            assert self.fields is not None
            if self.default is None:
                return None
            return {f.name: f.default_value(version) for f in self.fields if in_range(version, f.versions)}
        if self.default is not _UNSET:
            return self.default
        return _TYPE_DEFAULTS[self.elem]


_TYPE_DEFAULTS: dict[str, Any] = {
    "int8": 0, "int16": 0, "int32": 0, "int64": 0, "uint16": 0, "uint32": 0, "float64": 0.0,
    "bool": False, "string": "", "bytes": b"", "records": None, "uuid": ZERO_UUID,
}


@dataclass(frozen=True)
class Api:
    """One Kafka API: key, the versions this codec implements, first flexible version, schemas."""

    key: int
    name: str
    versions: tuple[int, int]
    flexible: str
    request: tuple[F, ...]
    response: tuple[F, ...]

    @property
    def first_flexible(self) -> int | None:
        rng = parse_versions(self.flexible)
        return None if rng is None else rng[0]

    def is_flexible(self, version: int) -> bool:
        first = self.first_flexible
        return first is not None and version >= first
