"""The serde calls sources and sinks make for every record, bound once per node.

Two kinds: the serde's own serialize/deserialize (or an equivalent), and for the common serdes a
C-level `fast` function of the bytes (or the object) alone that gives exactly the serde's result or
raises; the engine calls the serde itself when it raises (for the serde's own answer or error) and
for None, so results and errors never differ. Measured: the serde's Python frames and checks were
~20% of a stateless record's engine time.
"""
from __future__ import annotations

import sys
from typing import Any, Callable

from pystreams.serdes.json import JsonSerde
from pystreams.serdes.primitives import StringSerde

Deserialize = Callable[[str, Any, Any], Any]
Serialize = Callable[[str, Any, Any], Any]
Fast = Callable[[Any], Any]

_MSGSPEC_MODULE = "pystreams.serdes.msgspec_serde"


def _is_msgspec_serde(serde: Any) -> bool:
    """type(serde) is MsgspecSerde, without importing msgspec (~5 ms of start-up with typing_extensions) for
    apps that use none: while its module was never imported no object of its class can exist."""
    module = sys.modules.get(_MSGSPEC_MODULE)
    return module is not None and type(serde) is module.MsgspecSerde


def _plain_utf8(serde: Any) -> bool:
    if type(serde) is not StringSerde:
        return False
    encoding = getattr(serde, "encoding", "")
    return isinstance(encoding, str) and encoding.lower().replace("_", "-") in ("utf-8", "utf8")


def fast_decoder(serde: Any) -> Fast | None:
    """A C function of non-None bytes returning what serde.deserialize returns, or raising; None if unknown.

    StringSerde in UTF-8: bytes.decode (Java's replacement rules only apply to malformed input, which
    raises here); untyped JsonSerde: orjson.loads (the serde's own call); typed JSON and msgspec serdes: their
    msgspec decoder."""
    if _plain_utf8(serde):
        return bytes.decode
    if type(serde) is JsonSerde:
        return serde._loads  # type: ignore[no-any-return]
    if _is_msgspec_serde(serde):
        return serde._decoder.decode  # type: ignore[no-any-return]
    return None


IDENTITY: Any = object()
"""pure_decoder's answer for ByteArraySerde/BytesSerde: the consumed bytes are the value (no call)."""


def pure_decoder(serde: Any) -> Fast | None:
    """fast_decoder's function when it runs no user code and has no side effect (bytes.decode for UTF-8
    StringSerde, orjson.loads for untyped JsonSerde; IDENTITY for ByteArraySerde/BytesSerde, whose deserialize
    returns a consumed `bytes` as it is), else None; such a serde also deserializes None to None.

    Why: the record queue decodes a whole buffered batch of these at once (a few C-level passes instead of a
    Python loop per record); decoding records earlier than Kafka's one-record look-ahead is only invisible when
    decoding is pure (typed msgspec/dataclass decoding may run a user's __post_init__, Record.from_data is user
    code). A failure is no side effect either: the queue then decodes record by record through the serde."""
    if _plain_utf8(serde):
        return bytes.decode
    if type(serde) is JsonSerde:
        import orjson

        if serde.type is None and serde._loads is orjson.loads:
            return orjson.loads  # type: ignore[no-any-return]
        return None
    from pystreams.serdes.primitives import ByteArraySerde, BytesSerde

    if type(serde) in (ByteArraySerde, BytesSerde):
        return IDENTITY  # type: ignore[no-any-return]
    return None


def _orjson_encoder(dumps: Any, default: Any, option: Any) -> Fast:
    """orjson.dumps with the serde's default and option passed by position: ~0.2 us per call against ~0.3 us for
    a partial with keywords (the C call then builds a keyword dict every time)."""
    def encode(obj: Any) -> bytes:
        return dumps(obj, default, option)  # type: ignore[no-any-return]
    return encode


def orjson_call(serde: Any) -> tuple[Callable[[Any, Any, Any], bytes], Any, Any] | None:
    """(orjson.dumps, default, option) for an untyped JsonSerde, else None: a sink calls dumps(obj, default,
    option) itself, which is fast_encoder's result without the Python frame of its closure (~40 ns a record)."""
    if type(serde) is JsonSerde:
        import orjson

        return orjson.dumps, serde._default, serde._option
    return None


def fast_encoder(serde: Any) -> Fast | None:
    """A C function of a non-None object returning what serde.serialize returns, or raising; None if unknown."""
    if _plain_utf8(serde):
        return str.encode  # raises for non-str (bytes, ints, ...) and lone surrogates: the serde decides those
    if type(serde) is JsonSerde:
        import orjson

        return _orjson_encoder(orjson.dumps, serde._default, serde._option)
    if _is_msgspec_serde(serde):
        return serde._encoder.encode  # type: ignore[no-any-return]
    return None


def deserializer(serde: Any) -> Deserialize:
    """serde.deserialize, or an equivalent that tries the fast decoder first."""
    deserialize: Deserialize = serde.deserialize
    fast = fast_decoder(serde)
    if fast is None:
        return deserialize

    def decode(topic: str, data: Any, headers: Any = None) -> Any:
        if data is not None:
            try:
                return fast(data)
            except Exception:  # noqa: BLE001 - the serde gives its own answer or error
                pass
        return deserialize(topic, data, headers)

    return decode


def serializer(serde: Any) -> Serialize:
    """serde.serialize, or an equivalent that tries the fast encoder first."""
    serialize: Serialize = serde.serialize
    fast = fast_encoder(serde)
    if fast is None:
        return serialize

    def encode(topic: str, data: Any, headers: Any = None) -> Any:
        if data is not None:
            try:
                return fast(data)
            except Exception:  # noqa: BLE001 - the serde gives its own answer or error
                pass
        return serialize(topic, data, headers)

    return encode
