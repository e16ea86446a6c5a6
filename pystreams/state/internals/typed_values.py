"""Which value serdes let the record cache hold deserialized values: those whose bytes round-trip to an equal,
immutable object, so a cached object is exactly what deserializing the cached bytes would give."""
from __future__ import annotations

from typing import Any

from pystreams.serdes.primitives import IntegerSerde, LongSerde, ShortSerde

# integral serdes refuse bool, floats and out-of-range ints, so anything they serialized is an int that reads
# back equal; text is left out (Java's UTF-8 replaces lone surrogates, so a str may not read back equal)
_EXACT = (LongSerde, IntegerSerde, ShortSerde)


def exact_round_trip(value_serde: Any) -> bool:
    """True when deserialize(serialize(v)) == v for every v the serde accepts, and those values are immutable."""
    return type(value_serde) in _EXACT
