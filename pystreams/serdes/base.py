"""The Serde protocol: how a key or value becomes bytes and back, shaped like Kafka's
Serializer / Deserializer / Serde so Kafka users recognise it and Java apps share our topics."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from pystreams.errors import SerdeError

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
T_contra = TypeVar("T_contra", contravariant=True)

#: Kafka record headers: (key, value) pairs in order, duplicate keys allowed.
Headers = Sequence[tuple[str, bytes | None]]


class SerializationError(SerdeError):
    """Kafka's SerializationException: bytes could not be produced or read for a record."""


@runtime_checkable
class Serializer(Protocol[T_contra]):
    """Turns a value into bytes; ``None`` must map to ``None`` (a tombstone), as in Kafka."""

    def serialize(self, topic: str, data: T_contra | None,
                  headers: Headers | None = None) -> bytes | None: ...


@runtime_checkable
class Deserializer(Protocol[T_co]):
    """Turns bytes back into a value; ``None`` must map to ``None``, as in Kafka."""

    def deserialize(self, topic: str, data: bytes | None,
                    headers: Headers | None = None) -> T_co | None: ...


class Serde(Generic[T]):
    """A serializer and deserializer for one type, like Kafka's ``Serde<T>``.

    Subclasses implement :meth:`serialize` and :meth:`deserialize`; the serde object is its own
    serializer and deserializer, so ``serde.serializer()`` / ``serde.deserializer()`` (Kafka's
    accessors) return objects that work wherever a Serializer / Deserializer is expected.
    """

    def serialize(self, topic: str, data: T | None,
                  headers: Headers | None = None) -> bytes | None:
        """Return the bytes for ``data``; ``None`` -> ``None``."""
        raise NotImplementedError

    def deserialize(self, topic: str, data: bytes | None,
                    headers: Headers | None = None) -> T | None:
        """Return the value for ``data``; ``None`` -> ``None``."""
        raise NotImplementedError

    def serializer(self) -> Serializer[T]:
        """Kafka's ``serde.serializer()``."""
        return self

    def deserializer(self) -> Deserializer[T]:
        """Kafka's ``serde.deserializer()``."""
        return self

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        """Kafka's ``configure(configs, isKey)``: read serde settings from the app config."""

    def close(self) -> None:
        """Kafka's ``close()``: release resources; the default has none."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class WrapperSerde(Serde[T]):
    """A Serde from a separate serializer and deserializer (Kafka's ``Serdes.WrapperSerde``)."""

    def __init__(self, serializer: Serializer[T] | Callable[..., bytes | None],
                 deserializer: Deserializer[T] | Callable[..., T | None]) -> None:
        if serializer is None:
            raise SerdeError("serializer must not be None")
        if deserializer is None:
            raise SerdeError("deserializer must not be None")
        self._serializer = serializer
        self._deserializer = deserializer
        self._ser = _as_call(serializer, "serialize")
        self._de = _as_call(deserializer, "deserialize")

    def serialize(self, topic: str, data: T | None,
                  headers: Headers | None = None) -> bytes | None:
        if data is None:
            return None
        return self._ser(topic, data, headers)  # type: ignore[no-any-return]

    def deserialize(self, topic: str, data: bytes | None,
                    headers: Headers | None = None) -> T | None:
        if data is None:
            return None
        return self._de(topic, data, headers)  # type: ignore[no-any-return]

    def _parts(self) -> list[Any]:
        parts: list[Any] = [self._serializer]
        if self._deserializer is not self._serializer:
            parts.append(self._deserializer)
        return parts

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        for part in self._parts():
            configure = getattr(part, "configure", None)
            if callable(configure):
                configure(configs, is_key)

    def close(self) -> None:
        for part in self._parts():
            close = getattr(part, "close", None)
            if callable(close):
                close()

    def __repr__(self) -> str:
        return f"WrapperSerde({self._serializer!r}, {self._deserializer!r})"


def _as_call(obj: Any, method: str) -> Callable[[str, Any, Headers | None], Any]:
    """A Serializer/Deserializer object (``.serialize(topic, data[, headers])``), or a plain
    function of (data), (topic, data) or (topic, data, headers)."""
    bound = getattr(obj, method, None)
    target = bound if callable(bound) else obj
    if not callable(target):
        raise SerdeError(f"{obj!r} is neither a {method}r nor a function; pass an object with "
                         f".{method}(topic, data, headers) or a function of (data)")
    import inspect

    try:
        params = [p for p in inspect.signature(target).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        varargs = any(p.kind is p.VAR_POSITIONAL
                      for p in inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        params, varargs = [], True
    if varargs or len(params) >= 3:
        return target  # type: ignore[no-any-return]
    if len(params) == 2:
        return lambda topic, data, headers: target(topic, data)
    return lambda topic, data, headers: target(data)
