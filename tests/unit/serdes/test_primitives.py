"""Byte formats of the built-in serdes against Java's (Kafka clients' serializers): the expected
bytes are written out from the Java facts (big-endian two's complement, IEEE 754, UTF-8 text)."""
from __future__ import annotations

import uuid

import pytest

from pystreams.errors import SerdeError
from pystreams.serdes import Serde, Serdes

pytestmark = pytest.mark.unit

ALL = [Serdes.String, Serdes.Bytes, Serdes.ByteArray, Serdes.ByteBuffer, Serdes.Short,
       Serdes.Integer, Serdes.Long, Serdes.Float, Serdes.Double, Serdes.Boolean, Serdes.UUID,
       Serdes.Void]


@pytest.mark.parametrize("cls", ALL)
def test_none_is_a_tombstone_both_ways(cls: type[Serde]) -> None:
    serde = cls()
    assert serde.serialize("t", None) is None
    assert serde.deserialize("t", None) is None


@pytest.mark.parametrize(("serde", "value", "hex_bytes"), [
    (Serdes.Long(), 1, "0000000000000001"),
    (Serdes.Long(), -1, "ffffffffffffffff"),
    (Serdes.Long(), 2**63 - 1, "7fffffffffffffff"),
    (Serdes.Long(), -(2**63), "8000000000000000"),
    (Serdes.Long(), 256, "0000000000000100"),
    (Serdes.Integer(), 1, "00000001"),
    (Serdes.Integer(), -2, "fffffffe"),
    (Serdes.Integer(), 2**31 - 1, "7fffffff"),
    (Serdes.Short(), 1, "0001"),
    (Serdes.Short(), -32768, "8000"),
    (Serdes.Float(), 1.0, "3f800000"),
    (Serdes.Float(), -2.5, "c0200000"),
    (Serdes.Double(), 1.0, "3ff0000000000000"),
    (Serdes.Double(), 0.1, "3fb999999999999a"),
    (Serdes.Double(), -0.0, "8000000000000000"),
    (Serdes.Double(), float("inf"), "7ff0000000000000"),
    (Serdes.Boolean(), True, "01"),
    (Serdes.Boolean(), False, "00"),
    (Serdes.String(), "héllo", "68c3a96c6c6f"),
    (Serdes.String(), "", ""),
    (Serdes.Bytes(), b"\x00\xff", "00ff"),
    (Serdes.ByteArray(), b"\x01\x02", "0102"),
])
def test_java_byte_format(serde: Serde, value: object, hex_bytes: str) -> None:
    encoded = serde.serialize("topic", value)
    assert encoded == bytes.fromhex(hex_bytes)
    assert serde.deserialize("topic", encoded) == value


def test_double_nan_is_javas_canonical_nan() -> None:
    # Double.doubleToLongBits maps every NaN to 0x7ff8000000000000.
    nan_with_payload = __import__("struct").unpack(">d", bytes.fromhex("7ff0000000000001"))[0]
    assert Serdes.Double().serialize("t", nan_with_payload) == bytes.fromhex("7ff8000000000000")


def test_uuid_is_its_36_char_text_not_16_bytes() -> None:
    value = uuid.UUID("123e4567-e89b-12d3-a456-426614174000")
    encoded = Serdes.UUID().serialize("t", value)
    assert encoded == b"123e4567-e89b-12d3-a456-426614174000"
    assert Serdes.UUID().deserialize("t", encoded) == value
    # Java's UUID.fromString accepts upper case and short groups; refuses braces/urn forms.
    assert Serdes.UUID().deserialize("t", b"123E4567-E89B-12D3-A456-426614174000") == value
    assert Serdes.UUID().deserialize("t", b"1-2-3-4-5") == uuid.UUID(
        "00000001-0002-0003-0004-000000000005")
    for bad in (b"{123e4567-e89b-12d3-a456-426614174000}", b"123e4567e89b12d3a456426614174000",
                b"not-a-uuid", b"\xff"):
        with pytest.raises(SerdeError, match="Error parsing data into UUID"):
            Serdes.UUID().deserialize("t", bad)


@pytest.mark.parametrize(("serde", "size", "message"), [
    (Serdes.Long(), 8, "LongDeserializer is not 8"),
    (Serdes.Integer(), 4, "IntegerDeserializer is not 4"),
    (Serdes.Short(), 2, "ShortDeserializer is not 2"),
    (Serdes.Float(), 4, "Deserializer is not 4"),
    (Serdes.Double(), 8, "Deserializer is not 8"),
    (Serdes.Boolean(), 1, "BooleanDeserializer is not 1"),
])
def test_wrong_size_is_rejected_with_kafkas_message(serde: Serde, size: int, message: str) -> None:
    for length in (0, size - 1, size + 1):
        with pytest.raises(SerdeError, match=message):
            serde.deserialize("t", b"\x00" * length)


def test_boolean_rejects_other_bytes_like_java() -> None:
    with pytest.raises(SerdeError, match="Unexpected byte received by BooleanDeserializer: -1"):
        Serdes.Boolean().deserialize("t", b"\xff")


@pytest.mark.parametrize(("serde", "bad"), [
    (Serdes.Long(), 2**63), (Serdes.Integer(), 2**31), (Serdes.Short(), -(2**15) - 1),
    (Serdes.Long(), "1"), (Serdes.Integer(), 1.0), (Serdes.Long(), True),
    (Serdes.Float(), 1e40), (Serdes.Double(), "x"), (Serdes.String(), b"x"),
    (Serdes.Bytes(), "x"), (Serdes.UUID(), "123e4567-e89b-12d3-a456-426614174000"),
    (Serdes.Boolean(), 1), (Serdes.Void(), 0),
])
def test_wrong_type_or_range_is_a_clear_serde_error(serde: Serde, bad: object) -> None:
    with pytest.raises(SerdeError, match="topic 't'"):
        serde.serialize("t", bad)


def test_void_refuses_data() -> None:
    with pytest.raises(SerdeError, match="Data should be null for a VoidDeserializer"):
        Serdes.Void().deserialize("t", b"")


def test_bytes_serdes_take_any_bytes_like_and_return_hashable_bytes() -> None:
    for serde in (Serdes.Bytes(), Serdes.ByteArray(), Serdes.ByteBuffer()):
        assert serde.serialize("t", bytearray(b"ab")) == b"ab"
        assert serde.serialize("t", memoryview(b"cd")) == b"cd"
        out = serde.deserialize("t", bytearray(b"ef"))  # type: ignore[arg-type]
        assert type(out) is bytes and out == b"ef"


def test_string_encoding_configs_like_kafka() -> None:
    serde = Serdes.String()
    serde.configure({"key.serializer.encoding": "utf-16-be"}, is_key=True)
    assert serde.serialize("t", "A") == b"\x00A"
    value = Serdes.String()
    value.configure({"key.serializer.encoding": "utf-16-be"}, is_key=False)
    assert value.serialize("t", "A") == b"A"
    value.configure({"serializer.encoding": "latin-1"}, is_key=False)
    assert value.serialize("t", "é") == b"\xe9"
    with pytest.raises(SerdeError, match="Unsupported encoding nope"):
        value.configure({"serializer.encoding": "nope"}, is_key=False)

def test_malformed_text_is_replaced_like_javas_new_string() -> None:
    # Java: new String(bytes, UTF_8) never throws; malformed bytes become U+FFFD; getBytes(UTF_8)
    # writes '?' for a lone surrogate.
    assert Serdes.String().deserialize("t", b"a\xffb\xc3") == "a\ufffdb\ufffd"
    assert Serdes.String().serialize("t", "x\ud800y") == b"x?y"
    with pytest.raises(SerdeError, match="not valid utf-8"):
        Serdes.String(errors="strict").deserialize("t", b"\xff")


def test_serde_is_its_own_serializer_and_deserializer() -> None:
    serde = Serdes.Long()
    assert serde.serializer().serialize("t", 7) == bytes.fromhex("0000000000000007")
    assert serde.deserializer().deserialize("t", bytes.fromhex("0000000000000007")) == 7


def test_serde_from_functions_and_objects() -> None:
    upper = Serdes.serde_from(lambda v: v.upper().encode(), lambda b: b.decode())
    assert upper.serialize("t", "ab") == b"AB"
    assert upper.deserialize("t", b"AB") == "AB"
    assert upper.serialize("t", None) is None and upper.deserialize("t", None) is None
    with_topic = Serdes.serde_from(lambda topic, v: f"{topic}:{v}".encode(),
                                   lambda topic, b: b.decode().split(":", 1))
    assert with_topic.serialize("orders", "x") == b"orders:x"
    pair = Serdes.serde_from(Serdes.Long().serializer(), Serdes.Long().deserializer())
    assert pair.deserialize("t", pair.serialize("t", 3)) == 3
    with pytest.raises(SerdeError, match="serializer must not be None"):
        Serdes.serde_from(None, Serdes.Long())  # type: ignore[arg-type]


@pytest.mark.parametrize(("raw", "java_text"), [
    # (bytes, what Java 17's new String(bytes, UTF_8) gives; recorded from Kafka's
    # StringDeserializer via tests/integration/serdes/SerdeOracle.java)
    ("eda443", "\ufffdC"),            # Python: two U+FFFD, Java: one for "ed a4"
    ("eda080", "\ufffd"),             # an encoded surrogate: one U+FFFD for all three bytes
    ("f09080", "\ufffd"),             # truncated 4-byte sequence at the end
    ("f0908041", "\ufffdA"),
    ("e08080", "\ufffd\ufffd\ufffd"),  # overlong
    ("f5808080", "\ufffd" * 4),
    ("f4908080", "\ufffd" * 4),       # above U+10FFFF
    ("c341", "\ufffdA"),
])
def test_malformed_utf8_replacement_follows_java(raw: str, java_text: str) -> None:
    assert Serdes.String().deserialize("t", bytes.fromhex(raw)) == java_text


def test_surrogate_pairs_in_python_text_encode_like_java() -> None:
    assert Serdes.String().serialize("t", "\ud83d\ude00") == "\U0001f600".encode()
    assert Serdes.String().serialize("t", "\ude00\ud83d") == b"??"
