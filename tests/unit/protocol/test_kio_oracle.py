"""kio (an independent implementation generated from Kafka's schemas) as the oracle: for every
(api, version) we implement, bodies encoded by us decode with kio to the same values, and bodies
encoded by kio decode with us to the same values, for requests and responses."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pystreams.broker.protocol import (APIS, SUPPORTED_VERSIONS, RequestHeader, decode_request,
                                       decode_response, encode_request, encode_response)
from pystreams.broker.protocol.header import encode_request_header

from .kio_bridge import (KIO_ERROR_CODES, Unrepresentable, from_kio, kio_class, kio_decode, kio_encode,
                         to_kio)
from .schema_strategies import body_strategy, expected, normalise

pytestmark = pytest.mark.unit

CASES = [(key, v, side) for key, (lo, hi) in SUPPORTED_VERSIONS.items() for v in range(lo, hi + 1)
         for side in ("request", "response")]
# kio's typed model turns some int64 fields into datetimes/timedeltas; keep within their range
INT64_BOUNDS = (-(2**52), 2**52)


def _id(case: tuple[int, int, str]) -> str:
    return f"{APIS[case[0]].name}-v{case[1]}-{case[2]}"


def _kio_value(cls: type, fields: Any, version: int, body: dict[str, Any]) -> Any:
    try:
        return to_kio(cls, fields, version, body)
    except Unrepresentable:
        assume(False)


@pytest.mark.parametrize("case", CASES, ids=_id)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_ours_and_kio_agree(case: tuple[int, int, str], data: st.DataObject) -> None:
    key, version, side = case
    api = APIS[key]
    response = side == "response"
    fields = api.response if response else api.request
    cls = kio_class(key, version, response)
    body = data.draw(body_strategy(fields, version, KIO_ERROR_CODES, INT64_BOUNDS), label="body")
    want = normalise(expected(fields, version, body))
    kio_obj = _kio_value(cls, fields, version, body)

    # ours -> kio
    header = RequestHeader(key, version, 17, "oracle")
    if response:
        ours_raw = b"".join(encode_response(header, body))
        head = 4 + 4 + (1 if api.is_flexible(version) and key != 18 else 0)
    else:
        ours_raw = encode_request(header, body)
        head = 4 + len(encode_request_header(header))
    decoded, size = kio_decode(cls, ours_raw[head:])
    assert size == len(ours_raw) - head
    assert normalise(from_kio(decoded, fields, version)) == normalise(body)

    # kio -> ours
    kio_raw = kio_encode(kio_obj)
    assert kio_raw == ours_raw[head:], "byte-for-byte identical encodings"
    if response:
        _, got = decode_response(key, version, ours_raw[4:head] + kio_raw)
    else:
        got = decode_request(header, memoryview(ours_raw[4:head] + kio_raw), head - 4)
    assert normalise(got) == want
