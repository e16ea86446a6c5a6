"""Consumer protocol subscription/assignment bytes: round trips, kio as oracle, newer versions."""
from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kio.index import load_entity_schema
from kio.serial import entity_reader, entity_writer
from kio.static.constants import EntityType

from pystreams.broker.protocol import CorruptMessageError
from pystreams.broker.protocol.consumer_protocol import (decode_assignment, decode_subscription,
                                                         encode_assignment, encode_subscription, fields)

from .kio_bridge import from_kio, to_kio
from .schema_strategies import body_strategy, expected, normalise

pytestmark = pytest.mark.unit

KINDS = {"subscription": (encode_subscription, decode_subscription, "consumer_protocol_subscription"),
         "assignment": (encode_assignment, decode_assignment, "consumer_protocol_assignment")}


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("version", [0, 1, 2, 3])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_roundtrip_and_kio_agree(kind: str, version: int, data: st.DataObject) -> None:
    encode, decode, kio_name = KINDS[kind]
    schema = fields(kind)
    body = data.draw(body_strategy(schema, version))
    raw = encode(body, version)
    got_version, got = decode(raw)
    assert got_version == version
    assert normalise(got) == normalise(expected(schema, version, body))
    cls = load_entity_schema(kio_name, version, EntityType.data)
    value, size = entity_reader(cls)(raw[2:], 0)
    assert size == len(raw) - 2
    assert normalise(from_kio(value, schema, version)) == normalise(body)
    out = io.BytesIO()
    entity_writer(cls)(out, to_kio(cls, schema, version, body))
    assert out.getvalue() == raw[2:]


def test_newer_versions_are_read_with_the_newest_known_layout() -> None:
    raw = encode_subscription({"topics": ["a", "b"], "generation_id": 7, "rack_id": "r1"}, 3)
    newer = struct.pack(">h", 9) + raw[2:] + b"\x00\x00\x00\x05future"
    version, body = decode_subscription(newer)
    assert version == 9 and body["topics"] == ["a", "b"] and body["rack_id"] == "r1"


def test_java_style_assignment_bytes() -> None:
    # version 0: one topic "t" with partitions [0, 2], null user data
    raw = struct.pack(">hih", 0, 1, 1) + b"t" + struct.pack(">iii", 2, 0, 2) + struct.pack(">i", -1)
    assert decode_assignment(raw) == (0, {"assigned_partitions": [{"topic": "t", "partitions": [0, 2]}],
                                          "user_data": None})
    assert encode_assignment({"assigned_partitions": [{"topic": "t", "partitions": [0, 2]}]}, 0) == raw


@pytest.mark.parametrize("raw", [b"", b"\x00", b"\x00\x00\x7f\xff\xff\xff", b"\xff\xff\x00\x00\x00\x00"])
def test_garbage_is_corrupt(raw: bytes) -> None:
    with pytest.raises(CorruptMessageError):
        decode_subscription(raw)
