"""Malformed and hostile bytes: every failure is a CorruptMessageError (never another exception),
and a small frame that declares a huge length is rejected before anything is allocated."""
from __future__ import annotations

import struct
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pystreams.broker.protocol import (APIS, SUPPORTED_VERSIONS, CorruptMessageError, RequestHeader,
                                       UnsupportedVersionError, decode_request, decode_request_header,
                                       decode_response, encode_request, encode_response)
from pystreams.broker.protocol.primitives import uvarint_bytes

from .schema_strategies import body_strategy

pytestmark = pytest.mark.unit

CASES = [(key, v) for key, (lo, hi) in SUPPORTED_VERSIONS.items() for v in range(lo, hi + 1)]
HUGE = 0xE6666666  # ~3.6 GiB


def _id(case: tuple[int, int]) -> str:
    return f"{APIS[case[0]].name}-v{case[1]}"


def _decode_request_frame(frame: bytes) -> None:
    header, offset = decode_request_header(memoryview(frame))
    decode_request(header, memoryview(frame), offset)


@pytest.mark.parametrize("case", CASES, ids=_id)
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_frames_decode_or_raise_corrupt_message(case: tuple[int, int], data: st.DataObject) -> None:
    key, version = case
    api = APIS[key]
    body = data.draw(body_strategy(api.request, version))
    frame = bytearray(encode_request(RequestHeader(key, version, 1, "f"), body)[4:])
    response = bytearray(b"".join(encode_response(RequestHeader(key, version, 1),
                                                  data.draw(body_strategy(api.response, version))))[4:])
    for is_request, buf in ((True, frame), (False, response)):
        mutation = data.draw(st.sampled_from(["truncate", "flip", "huge-int32", "huge-varint"]))
        pos = data.draw(st.integers(0, max(len(buf) - 1, 0)))
        if mutation == "truncate":
            buf = buf[:pos]
        elif mutation == "flip" and buf:
            buf[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif mutation == "huge-int32":
            buf[pos:pos + 4] = struct.pack(">I", HUGE)
        else:
            buf[pos:pos + 5] = uvarint_bytes(HUGE)
        try:
            if is_request:
                _decode_request_frame(bytes(buf))
            else:
                decode_response(key, version, bytes(buf))
        except (CorruptMessageError, UnsupportedVersionError):
            pass


def _peak_allocation(fn: object, *args: object) -> int:
    tracemalloc.start()
    try:
        try:
            fn(*args)  # type: ignore[operator]
        except CorruptMessageError:
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("version", [3, 8, 9, 11])
def test_eight_body_bytes_asking_for_gigabytes_allocate_nothing(version: int) -> None:
    flexible = version >= 9
    header = struct.pack(">hhih", 0, version, 1, -1) + (b"\x00" if flexible else b"")
    # transactional_id null, acks, timeout, then a topic array length of ~3.6 GiB elements
    nul = b"\x00" if flexible else b"\xff\xff"
    body = nul + struct.pack(">hi", 1, 1000) + (uvarint_bytes(HUGE) if flexible else struct.pack(">I", 0x7FFFFFFF))
    frame = header + body
    with pytest.raises(CorruptMessageError, match="topic_data"):
        _decode_request_frame(frame)
    assert _peak_allocation(_decode_request_frame, frame) < 64 * 1024


@pytest.mark.parametrize("field_bytes", [struct.pack(">i", 0x7FFFFFF0), struct.pack(">h", 0x7FF0)])
def test_huge_string_or_bytes_length_is_checked_against_the_frame(field_bytes: bytes) -> None:
    # SyncGroup v3 (not flexible): group_id string length, then garbage
    frame = struct.pack(">hhih", 14, 3, 1, -1) + field_bytes + b"abc"
    with pytest.raises(CorruptMessageError, match="group_id"):
        _decode_request_frame(frame)
    assert _peak_allocation(_decode_request_frame, frame) < 64 * 1024


def test_over_long_varint_is_rejected() -> None:
    frame = struct.pack(">hhih", 12, 4, 1, -1) + b"\x00" + b"\xff" * 6 + b"\x01"
    with pytest.raises(CorruptMessageError, match="varint"):
        _decode_request_frame(frame)


def test_null_in_a_non_nullable_field_is_corrupt() -> None:
    frame = struct.pack(">hhih", 12, 0, 1, -1) + struct.pack(">h", -1) + struct.pack(">i", 1) + struct.pack(">h", 0)
    with pytest.raises(CorruptMessageError, match="group_id"):
        _decode_request_frame(frame)


def test_invalid_utf8_is_corrupt() -> None:
    frame = struct.pack(">hhih", 12, 0, 1, -1) + struct.pack(">h", 2) + b"\xff\xfe" + struct.pack(">ih", 1, 0)
    with pytest.raises(CorruptMessageError):
        _decode_request_frame(frame)


@pytest.mark.parametrize("size", range(0, 10))
def test_short_headers_are_corrupt(size: int) -> None:
    with pytest.raises(CorruptMessageError):
        decode_request_header(memoryview(struct.pack(">hhih", 18, 3, 1, 5)[:size]))
