"""Our built-in serdes against Kafka 4.1.1's own Java serializers (kafka-clients jar, run by the
JVM): the same seeded random values must give the same bytes, and the same bytes (random ones
included) the same values or the same refusal."""
from __future__ import annotations

import math
import random
import struct
import subprocess
import uuid
from pathlib import Path

import pytest

from pystreams.errors import SerdeError
from pystreams.serdes import Serdes

jvm = pytest.importorskip("tests.reference.jvm")

pytestmark = [pytest.mark.integration, pytest.mark.reference]

ORACLE = Path(__file__).with_name("SerdeOracle.java")


def _java(lines: list[str]) -> list[str]:
    if not any(jvm.LIB.glob("kafka-clients-*.jar")):
        pytest.skip("reference jars not fetched: run scripts/reference.sh fetch")
    try:
        java = jvm.java()
    except jvm.ReferenceSetupError as exc:
        pytest.skip(str(exc))
    done = subprocess.run([java, *jvm.FAST_START_FLAGS, "-Dlog4j2.level=OFF", "-cp",
                           jvm.CLASSPATH, str(ORACLE)],
                          input="\n".join(lines) + "\n", capture_output=True, text=True,
                          timeout=120, check=True)
    out = done.stdout.splitlines()
    assert len(out) == len(lines), done.stderr
    return out


def _floats(rng: random.Random, n: int, width: int) -> list[int]:
    """Raw IEEE bit patterns: random ones plus the special values."""
    bits = 8 * width
    specials = [0, 1 << (bits - 1), 0x3F800000 if width == 4 else 0x3FF0000000000000]
    specials += [0x7F800000, 0xFF800000] if width == 4 else [0x7FF0000000000000,
                                                             0xFFF0000000000000]
    return specials + [rng.getrandbits(bits) for _ in range(n)]


def _is_nan(bits: int, width: int) -> bool:
    return math.isnan(struct.unpack(">f" if width == 4 else ">d",
                                    bits.to_bytes(width, "big"))[0])


def test_serialized_bytes_equal_javas() -> None:
    rng = random.Random(4)
    cases: list[tuple[str, object, str]] = []  # (serde, python value, java arg)
    for name, lo, hi in (("Long", -(2**63), 2**63 - 1), ("Integer", -(2**31), 2**31 - 1),
                         ("Short", -(2**15), 2**15 - 1)):
        for v in [lo, hi, 0, -1, 1] + [rng.randint(lo, hi) for _ in range(150)]:
            cases.append((name, v, str(v)))
    for name, width in (("Float", 4), ("Double", 8)):
        for bits in _floats(rng, 150, width):
            if width == 4 and _is_nan(bits, 4):
                continue  # a float32 NaN payload cannot be carried by a Python float
            value = struct.unpack(">f" if width == 4 else ">d", bits.to_bytes(width, "big"))[0]
            cases.append((name, value, f"{bits:x}"))
    for _ in range(150):
        text = "".join(chr(rng.choice([rng.randint(32, 126), rng.randint(0x80, 0xD7FF),
                                       rng.randint(0xE000, 0x10FFFF)]))
                       for _ in range(rng.randint(0, 12)))
        cases.append(("String", text, text.encode().hex()))
        u = uuid.UUID(int=rng.getrandbits(128))
        cases.append(("UUID", u, str(u)))
        raw = rng.randbytes(rng.randint(0, 20))
        cases.append(("Bytes", raw, raw.hex()))
        cases.append(("ByteArray", raw, raw.hex()))
    cases += [("Boolean", True, "true"), ("Boolean", False, "false")]
    java = _java([f"{name}\tser\t{arg}" for name, _, arg in cases])
    for (name, value, _), expected in zip(cases, java):
        ours = getattr(Serdes, name)().serialize("t", value)
        assert ours is not None and ours.hex() == expected, (name, value)


def test_deserialized_values_equal_javas_for_any_bytes() -> None:
    rng = random.Random(44)
    cases: list[tuple[str, bytes]] = []
    for name, size in (("Long", 8), ("Integer", 4), ("Short", 2), ("Float", 4), ("Double", 8),
                       ("Boolean", 1)):
        for _ in range(100):
            cases.append((name, rng.randbytes(size)))
        cases += [(name, b""), (name, rng.randbytes(size + 1)), (name, rng.randbytes(size - 1))]
    cases += [("Boolean", b"\x00"), ("Boolean", b"\x01")]
    lead = [0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xF8, 0xFF]
    for _ in range(1500):  # mostly malformed UTF-8: Java's replacement rules, byte for byte
        cases.append(("String", bytes(rng.choice([rng.randint(0, 0x7F), rng.randint(0x80, 0xBF),
                                                   rng.choice(lead), rng.randint(0x80, 0xFF)])
                                      for _ in range(rng.randint(0, 10)))))
    for _ in range(150):
        cases.append(("String", rng.randbytes(rng.randint(0, 16))))
        cases.append(("String", "".join(chr(rng.randint(0, 0xD7FF))
                                        for _ in range(8)).encode()))
        cases.append(("UUID", str(uuid.UUID(int=rng.getrandbits(128))).upper().encode()))
    cases += [("UUID", b"1-2-3-4-5"), ("UUID", b"not-a-uuid"), ("UUID", b""),
              ("UUID", b"123e4567e89b12d3a456426614174000")]
    java = _java([f"{name}\tde\t{data.hex()}" for name, data in cases])
    for (name, data), expected in zip(cases, java):
        serde = getattr(Serdes, name)()
        try:
            value = serde.deserialize("t", data)
        except SerdeError:
            assert expected.startswith("ERR "), (name, data.hex(), expected)
            continue
        assert not expected.startswith("ERR "), (name, data.hex(), value)
        if name in ("Float", "Double"):
            width = 4 if name == "Float" else 8
            ours_bits = int.from_bytes(struct.pack(">f" if width == 4 else ">d", value), "big")
            java_bits = int(expected, 16)
            if _is_nan(java_bits, width):
                assert math.isnan(value)  # NaN payloads are not kept by Python floats
            else:
                assert ours_bits == java_bits, (name, data.hex())
        elif name == "String":
            assert value.encode("utf-8", "surrogatepass").hex() == expected, data.hex()
        elif name == "Boolean":
            assert str(value).lower() == expected
        else:
            assert str(value) == expected, (name, data.hex())


def test_list_serde_matches_javas_both_ways() -> None:
    rng = random.Random(444)
    longs = [[rng.choice([None, rng.randint(-(2**63), 2**63 - 1)]) for _ in range(rng.randint(0, 6))]
             for _ in range(60)]
    texts = [[rng.choice([None, "", "é", rng.randbytes(3).hex()]) for _ in range(rng.randint(0, 6))]
             for _ in range(60)]
    long_serde, text_serde = Serdes.ListSerde(Serdes.Long()), Serdes.ListSerde(Serdes.String())
    lines = [f"ListLong\tser\t{','.join('null' if v is None else str(v) for v in lst)}"
             for lst in longs]
    lines += [f"ListString\tser\t{','.join('null' if v is None else '=' + v.encode().hex() for v in lst)}"
              for lst in texts]
    java_bytes = _java(lines)
    ours = [long_serde.serialize("t", lst) for lst in longs]
    ours += [text_serde.serialize("t", lst) for lst in texts]
    assert [b.hex() for b in ours] == java_bytes
    back = _java([f"ListLong\tde\t{b.hex()}" for b in ours[:60]]
                 + [f"ListString\tde\t{b.hex()}" for b in ours[60:]])
    for lst, data, java in zip(longs + texts, ours, back):
        serde = long_serde if data[0] == 0 else text_serde
        fmt = (lambda v: str(v)) if serde is long_serde else (lambda v: "=" + v.encode().hex())
        if java.startswith("ERR "):
            # Kafka's ListDeserializer cannot read a list whose LAST entry is empty (its
            # stream is at the end, read() gives -1); ours refuses the same bytes.
            assert lst and lst[-1] == ""
            with pytest.raises(SerdeError, match="End of the stream"):
                serde.deserialize("t", data)
            continue
        assert java == ",".join("null" if v is None else fmt(v) for v in lst)
        assert serde.deserialize("t", data) == lst


def test_list_serde_reads_truncated_and_random_bytes_like_java() -> None:
    rng = random.Random(4444)
    long_serde, text_serde = Serdes.ListSerde(Serdes.Long()), Serdes.ListSerde(Serdes.String())
    cases: list[tuple[str, bytes]] = []
    for _ in range(80):
        lst = [rng.choice([None, rng.randint(-9, 9)]) for _ in range(rng.randint(1, 4))]
        data = long_serde.serialize("t", lst)
        cases.append(("ListLong", data[: rng.randint(1, len(data))]))
        words = [rng.choice([None, "ab", "xyz"]) for _ in range(rng.randint(1, 4))]
        data = text_serde.serialize("t", words)
        cases.append(("ListString", data[: rng.randint(1, len(data))]))
    java = _java([f"{name}\tde\t{data.hex()}" for name, data in cases])
    for (name, data), expected in zip(cases, java):
        serde = long_serde if name == "ListLong" else text_serde
        try:
            value = serde.deserialize("t", data)
        except SerdeError:
            assert expected.startswith("ERR "), (name, data.hex(), expected)
            continue
        fmt = str if name == "ListLong" else (lambda v: "=" + v.encode().hex())
        assert expected == ",".join("null" if v is None else fmt(v) for v in value), data.hex()
