"""Round-trip properties over every (api, version, direction) the codec implements:
decode(encode(body)) == body, with Kafka's defaults for fields absent in that version."""
from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pystreams.broker.protocol import (APIS, SUPPORTED_VERSIONS, RequestHeader, decode_request,
                                       decode_request_header, decode_response, encode_request, encode_response)

from .schema_strategies import body_strategy, expected, normalise

pytestmark = pytest.mark.unit

CASES = [(key, v) for key, (lo, hi) in SUPPORTED_VERSIONS.items() for v in range(lo, hi + 1)]


def _id(case: tuple[int, int]) -> str:
    return f"{APIS[case[0]].name}-v{case[1]}"


@pytest.mark.parametrize("case", CASES, ids=_id)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_request_roundtrip(case: tuple[int, int], data: st.DataObject) -> None:
    key, version = case
    api = APIS[key]
    body = data.draw(body_strategy(api.request, version), label="body")
    client_id = data.draw(st.none() | st.text(max_size=8), label="client_id")
    header = RequestHeader(key, version, data.draw(st.integers(-(2**31), 2**31 - 1)), client_id)
    raw = encode_request(header, body)
    assert struct.unpack_from(">i", raw)[0] == len(raw) - 4
    frame = memoryview(raw)[4:]
    got_header, offset = decode_request_header(frame)
    assert got_header == header
    assert normalise(decode_request(got_header, frame, offset)) == normalise(expected(api.request, version, body))


@pytest.mark.parametrize("case", CASES, ids=_id)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_response_roundtrip(case: tuple[int, int], data: st.DataObject) -> None:
    key, version = case
    api = APIS[key]
    body: dict[str, Any] = data.draw(body_strategy(api.response, version), label="body")
    correlation_id = data.draw(st.integers(-(2**31), 2**31 - 1))
    parts = encode_response(RequestHeader(key, version, correlation_id), body)
    raw = b"".join(parts)
    assert struct.unpack_from(">i", raw)[0] == len(raw) - 4
    got_id, got = decode_response(key, version, memoryview(raw)[4:])
    assert got_id == correlation_id
    assert normalise(got) == normalise(expected(api.response, version, body))
