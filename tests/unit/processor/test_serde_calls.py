"""The serde calls sources and sinks bind give exactly what the serde's own methods give."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams.processor.internals.serde_calls import deserializer, serializer
from pystreams.serdes import Serdes
from pystreams.serdes.primitives import StringSerde

pytestmark = pytest.mark.unit

RAW = [b"plain", "caf\u00e9 \U0001f600".encode(), b"bad \xff\xfe tail", b"\xe2\x82", b"\xed\xa0\x80", b"",
       bytearray(b"from a bytearray"), None]
TEXT = ["plain", "caf\u00e9 \U0001f600", "lone \ud800 surrogate", "\ud83d\ude00 pair as surrogates", "", None]


def outcome(fn: Any, *args: Any) -> Any:
    try:
        return ("ok", fn(*args))
    except Exception as e:  # noqa: BLE001 - the same failure is part of "the same result"
        return ("error", type(e).__name__, str(e))


@pytest.mark.parametrize("serde", [StringSerde(), StringSerde("UTF_8"), StringSerde(errors="strict"),
                                   StringSerde("latin-1")], ids=["java", "utf_8", "strict", "latin-1"])
def test_string_calls_match_the_serde(serde: StringSerde) -> None:
    de, se = deserializer(serde), serializer(serde)
    for data in RAW:
        assert outcome(de, "t", data, ()) == outcome(serde.deserialize, "t", data, ())
    for text in [*TEXT, 42, b"bytes"]:
        assert outcome(se, "t", text, ()) == outcome(serde.serialize, "t", text, ())


def test_fast_path_only_for_plain_utf8_string_serdes() -> None:
    assert deserializer(StringSerde()).__name__ == "utf8"
    latin = StringSerde("latin-1")
    assert deserializer(latin) == latin.deserialize and serializer(latin) == latin.serialize
    json = Serdes.JSON()
    assert deserializer(json) == json.deserialize and serializer(json) == json.serialize

    class Shouting(StringSerde):  # a subclass may change anything: its own methods are used
        def deserialize(self, topic: str, data: Any, headers: Any = None) -> Any:
            return super().deserialize(topic, data, headers).upper()

    shouting = Shouting()
    assert deserializer(shouting)("t", b"abc", ()) == "ABC"
