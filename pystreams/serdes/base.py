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

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        for part in (self._serializer, self._deserializer):
            configure = getattr(part, "configure", None)
            if callable(configure) and part is not self:
                configure(configs, is_key)

    def close(self) -> None:
        for part in (self._serializer, self._deserializer):
            close = getattr(part, "close", None)
            if callable(close):
                close()

    def __repr__(self) -> str:
        return f"WrapperSerde({self._serializer!r}, {self._deserializer!r})"


def _as_call(obj: Any, method: str) -> Callable[[str, Any, Headers | None], Any]:
    """A Serializer/Deserializer object, or a plain function of (data) or (topic, data)."""
    bound = getattr(obj, method, None)
    if callable(bound):
        return bound  # type: ignore[no-any-return]
    if not callable(obj):
        raise SerdeError(f"{obj!r} is neither a {method}r nor a function; pass an object with "
                         f".{method}(topic, data, headers) or a function of (data)")
    import inspect

    try:
        arity = len([p for p in inspect.signature(obj).parameters.values()
                     if p.default is inspect.Parameter.empty
                     and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])
    except (TypeError, ValueError):
        arity = 1
    if arity <= 1:
        return lambda topic, data, headers: obj(data)
    if arity == 2:
        return lambda topic, data, headers: obj(topic, data)
    return lambda topic, data, headers: obj(topic, data, headers)
