"""Serde facts the typed store layers use per record: which value serdes let the record cache hold deserialized
values (those whose bytes round-trip to an equal, immutable object, so a cached object is exactly what
deserializing the cached bytes would give), and a C-level key encoder where one gives the serde's own bytes."""
from __future__ import annotations

from typing import Any, Callable

from pystreams.serdes.primitives import IntegerSerde, LongSerde, ShortSerde, StringSerde

# integral serdes refuse bool, floats and out-of-range ints, so anything they serialized is an int that reads
# back equal; text is left out (Java's UTF-8 replaces lone surrogates, so a str may not read back equal)
_EXACT = (LongSerde, IntegerSerde, ShortSerde)


def exact_round_trip(value_serde: Any) -> bool:
    """True when deserialize(serialize(v)) == v for every v the serde accepts, and those values are immutable."""
    return type(value_serde) in _EXACT


def fast_key_encoder(key_serde: Any) -> Callable[[Any], bytes] | None:
    """A C-level function giving exactly key_serde.serialize's bytes for the keys it accepts, or raising (then
    the serde is called, for its own answer or error); None when there is none.

    UTF-8 StringSerde: str.encode equals Java's getBytes for every str without lone surrogates, and raises for
    those (and for non-str keys); the other way, bytes.decode equals Java's new String(bytes, UTF_8) for valid
    UTF-8 and raises for the rest (where Java substitutes U+FFFD)."""
    if type(key_serde) is not StringSerde or key_serde.errors != "replace":
        return None
    if key_serde.encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
        return None
    return str.encode
