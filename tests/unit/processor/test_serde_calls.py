"""The C-level serde calls sources and sinks use give exactly what the serde's own methods give, or raise
(then the engine asks the serde), and the composed calls equal the serde's."""
from __future__ import annotations

import datetime
import decimal
from typing import Any

import msgspec
import pytest

from pystreams.processor.internals.serde_calls import deserializer, fast_decoder, fast_encoder, serializer
from pystreams.serdes import Serdes
from pystreams.serdes.json import JsonSerde
from pystreams.serdes.msgspec_serde import MsgspecSerde
from pystreams.serdes.primitives import StringSerde

pytestmark = pytest.mark.unit

RAW = [b"plain", "caf\u00e9 \U0001f600".encode(), b"bad \xff\xfe tail", b"\xe2\x82", b"\xed\xa0\x80", b"",
       bytearray(b"from a bytearray"), b'{"a": 1, "b": [1.5, null]}', b"[1, 2", b"12345678901234567890123",
       b'{"id": 3, "name": "x"}', None]
OBJECTS = ["plain", "caf\u00e9 \U0001f600", "lone \ud800 surrogate", "\ud83d\ude00 pair as surrogates", "", None,
           42, b"bytes", {"a": 1, 2: "int key"}, [decimal.Decimal("1.10"), {1, 2}],
           datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc), object()]


class Item(msgspec.Struct):
    id: int
    name: str


SERDES = [StringSerde(), StringSerde("UTF_8"), StringSerde(errors="strict"), StringSerde("latin-1"),
          JsonSerde(), JsonSerde(sort_keys=True), JsonSerde(Item), MsgspecSerde(Item), MsgspecSerde(Item, "msgpack")]
IDS = ["java", "utf_8", "strict", "latin-1", "json", "json-sorted", "json-typed", "msgspec", "msgpack"]


def outcome(fn: Any, *args: Any) -> Any:
    try:
        return ("ok", fn(*args))
    except Exception as e:  # noqa: BLE001 - the same failure is part of "the same result"
        return ("error", type(e).__name__, str(e))


@pytest.mark.parametrize("serde", SERDES, ids=IDS)
def test_fast_calls_agree_with_the_serde_or_raise(serde: Any) -> None:
    decode, encode = fast_decoder(serde), fast_encoder(serde)
    for data in RAW:
        expected = outcome(serde.deserialize, "t", data, ())
        if decode is not None and data is not None:
            got = outcome(decode, data)
            assert got[0] == "error" or got == expected, data
        assert outcome(deserializer(serde), "t", data, ()) == expected
    for obj in [*OBJECTS, Item(1, "a")]:
        expected = outcome(serde.serialize, "t", obj, ())
        if encode is not None and obj is not None:
            got = outcome(encode, obj)
            assert got[0] == "error" or got == expected, obj
        assert outcome(serializer(serde), "t", obj, ()) == expected


def test_fast_calls_only_for_known_serdes() -> None:
    assert fast_decoder(StringSerde()) is bytes.decode
    assert fast_decoder(StringSerde("latin-1")) is None and fast_encoder(StringSerde("latin-1")) is None
    assert fast_decoder(Serdes.Long()) is None
    assert fast_decoder(JsonSerde()) is not None

    class Shouting(StringSerde):  # a subclass may change anything: its own methods are used
        def deserialize(self, topic: str, data: Any, headers: Any = None) -> Any:
            return super().deserialize(topic, data, headers).upper()

    shouting = Shouting()
    assert fast_decoder(shouting) is None
    assert deserializer(shouting)("t", b"abc", ()) == "ABC"
