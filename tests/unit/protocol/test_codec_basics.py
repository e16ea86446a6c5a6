"""Hand-written cases for the codec's contract: header, zero-copy records, fallback, defaults."""
from __future__ import annotations

import struct
import uuid

import pytest

from pystreams.broker.protocol import (SUPPORTED_VERSIONS, ApiKey, CorruptMessageError, ErrorCode, RequestHeader,
                                       UnsupportedVersionError, decode_request, decode_request_header,
                                       decode_response, encode_api_versions_fallback, encode_request,
                                       encode_response)

pytestmark = pytest.mark.unit


def frame_of(raw: bytes) -> memoryview:
    (size,) = struct.unpack_from(">i", raw)
    assert size == len(raw) - 4
    return memoryview(raw)[4:]


def test_produce_request_records_are_a_zero_copy_slice_of_the_frame() -> None:
    header = RequestHeader(ApiKey.PRODUCE, 9, 42, "producer-1")
    batch = bytes(range(256)) * 10
    body = {"transactional_id": None, "acks": -1, "timeout_ms": 30000,
            "topic_data": [{"name": "orders", "partition_data": [{"index": 3, "records": batch}]}]}
    frame = frame_of(encode_request(header, body))
    got_header, offset = decode_request_header(frame)
    assert got_header == header
    got = decode_request(got_header, frame, offset)
    records = got["topic_data"][0]["partition_data"][0]["records"]
    assert isinstance(records, memoryview) and records.obj is frame.obj
    assert bytes(records) == batch
    assert got["acks"] == -1 and got["timeout_ms"] == 30000 and got["transactional_id"] is None


@pytest.mark.parametrize("version", [4, 11, 12, 17])
def test_fetch_response_records_stay_separate_buffers(version: int) -> None:
    chunks = [b"a" * 1000, memoryview(b"b" * 2000)]
    topic = {"topic": "t", "topic_id": uuid.uuid4(),
             "partitions": [{"partition_index": 0, "high_watermark": 10, "records": chunks}]}
    parts = encode_response(RequestHeader(ApiKey.FETCH, version, 7), {"responses": [topic]})
    assert any(p is chunks[0] for p in parts) and any(p is chunks[1] for p in parts)
    raw = b"".join(parts)
    correlation_id, body = decode_response(ApiKey.FETCH, version, frame_of(raw))
    assert correlation_id == 7
    part = body["responses"][0]["partitions"][0]
    assert bytes(part["records"]) == b"a" * 1000 + b"b" * 2000
    assert part["high_watermark"] == 10
    assert (body["responses"][0]["topic_id"] == topic["topic_id"]) == (version >= 13)


def test_missing_fields_take_kafka_defaults_and_absent_ones_decode_to_defaults() -> None:
    raw = encode_request(RequestHeader(ApiKey.FETCH, 4, 1, None), {"topics": []})
    header, offset = decode_request_header(frame_of(raw))
    body = decode_request(header, frame_of(raw), offset)
    assert body["max_bytes"] == 0x7FFFFFFF and body["replica_id"] == -1
    assert body["session_epoch"] == -1 and body["rack_id"] == "" and body["forgotten_topics_data"] == []


def test_response_header_v1_for_flexible_versions_but_v0_for_api_versions() -> None:
    heartbeat = b"".join(encode_response(RequestHeader(ApiKey.HEARTBEAT, 4, 9), {}))
    assert heartbeat == struct.pack(">ii", 12, 9) + b"\x00" + struct.pack(">ih", 0, 0) + b"\x00"
    old = b"".join(encode_response(RequestHeader(ApiKey.HEARTBEAT, 0, 9), {"error_code": 27}))
    assert old == struct.pack(">iih", 6, 9, 27)
    api_versions = b"".join(encode_response(RequestHeader(ApiKey.API_VERSIONS, 3, 9), {}))
    assert api_versions[4:9] == struct.pack(">i", 9) + b"\x00"  # no header tagged fields: error code 0 follows


def test_api_versions_fallback_is_a_v0_answer_listing_every_key() -> None:
    (raw,) = encode_api_versions_fallback(123)
    correlation_id, body = decode_response(ApiKey.API_VERSIONS, 0, frame_of(raw))
    assert correlation_id == 123
    assert body["error_code"] == ErrorCode.UNSUPPORTED_VERSION == 35
    assert {k["api_key"]: (k["min_version"], k["max_version"]) for k in body["api_keys"]} == SUPPORTED_VERSIONS
    # v0 layout: size, correlation id, error code, int32 array length, 6 bytes per key
    assert len(raw) == 4 + 4 + 2 + 4 + 6 * len(SUPPORTED_VERSIONS)


def test_unknown_key_or_version_still_returns_the_header() -> None:
    raw = encode_request(RequestHeader(ApiKey.API_VERSIONS, 3, 5, "c"), {"client_software_name": "x"})
    patched = bytearray(raw)
    struct.pack_into(">h", patched, 6, 99)  # api_version 99
    header, offset = decode_request_header(frame_of(bytes(patched)))
    assert header.api_version == 99 and header.correlation_id == 5
    with pytest.raises(UnsupportedVersionError) as info:
        decode_request(header, frame_of(bytes(patched)), offset)
    assert (info.value.api_key, info.value.version) == (18, 99)
    unknown = RequestHeader(1000, 0, 1, None)
    with pytest.raises(UnsupportedVersionError):
        decode_request(unknown, memoryview(b"\x00" * 20), 10)


def test_hostile_lengths_are_rejected_before_allocation() -> None:
    # Produce v3: transactional_id null, acks, timeout, then a topic array claiming 0x7fffffff topics
    header = struct.pack(">hhih", 0, 3, 1, -1)
    body = struct.pack(">hhi", -1, 1, 1000) + struct.pack(">i", 0x7FFFFFFF)
    with pytest.raises(CorruptMessageError, match="topic_data"):
        h, o = decode_request_header(memoryview(header + body))
        decode_request(h, memoryview(header + body), o)
    # 8 bytes asking for 3.6 GiB of records
    hostile = struct.pack(">hhi", -1, 1, 1000) + struct.pack(">i", 1) + struct.pack(">h", 1) + b"t"
    hostile += struct.pack(">i", 1) + struct.pack(">i", 0) + struct.pack(">i", 0x7FFFFFF0)
    with pytest.raises(CorruptMessageError, match="records"):
        decode_request(RequestHeader(0, 3, 1), memoryview(header + hostile), len(header))


def test_truncated_frames_raise_corrupt_message() -> None:
    raw = encode_request(RequestHeader(ApiKey.METADATA, 12, 1, "c"),
                         {"topics": [{"name": "a", "topic_id": uuid.uuid4()}], "allow_auto_topic_creation": True})
    frame = frame_of(raw)
    header, offset = decode_request_header(frame)
    for cut in range(offset, len(frame)):
        with pytest.raises(CorruptMessageError):
            decode_request(header, frame[:cut], offset)
    for cut in range(0, offset):
        with pytest.raises(CorruptMessageError):
            h, o = decode_request_header(frame[:cut])
            decode_request(h, frame[:cut], o)


def test_trailing_bytes_after_the_body_are_tolerated() -> None:
    raw = encode_request(RequestHeader(ApiKey.HEARTBEAT, 4, 3, "c"),
                         {"group_id": "g", "generation_id": 5, "member_id": "m", "group_instance_id": None})
    frame = memoryview(bytes(frame_of(raw)) + b"junk")
    header, offset = decode_request_header(frame)
    assert decode_request(header, frame, offset) == {"group_id": "g", "generation_id": 5, "member_id": "m",
                                                     "group_instance_id": None}


def test_error_codes_carry_kafka_names_and_retriability() -> None:
    assert ErrorCode.UNKNOWN_TOPIC_OR_PARTITION == 3 and ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.retriable
    assert ErrorCode.NOT_COORDINATOR.retriable and not ErrorCode.UNSUPPORTED_VERSION.retriable
    assert ErrorCode(0) is ErrorCode.NONE and not ErrorCode.NONE.retriable


def test_uuid_fields_accept_uuid_raw_bytes_or_none() -> None:
    tid = uuid.uuid4()
    header = RequestHeader(ApiKey.METADATA, 12, 1)
    for given, want in ((tid, tid), (tid.bytes, tid), (None, uuid.UUID(int=0))):
        raw = b"".join(encode_response(header, {"topics": [{"name": "t", "topic_id": given}]}))
        assert decode_response(ApiKey.METADATA, 12, frame_of(raw))[1]["topics"][0]["topic_id"] == want
    with pytest.raises(ValueError, match="16 bytes"):
        encode_response(header, {"topics": [{"name": "t", "topic_id": b"short"}]})


def test_api_versions_fallback_can_list_what_the_server_serves() -> None:
    (raw,) = encode_api_versions_fallback(5, {ApiKey.METADATA: (0, 12), ApiKey.API_VERSIONS: (0, 4)})
    _, body = decode_response(ApiKey.API_VERSIONS, 0, frame_of(raw))
    assert body["api_keys"] == [{"api_key": 3, "min_version": 0, "max_version": 12},
                                {"api_key": 18, "min_version": 0, "max_version": 4}]


class FileRegion:
    """What a server might hand over for os.sendfile: sized, not a buffer."""

    def __init__(self, nbytes: int) -> None:
        self.nbytes = nbytes


def test_sized_non_buffer_records_pass_through_and_count_in_the_size() -> None:
    region = FileRegion(1000)
    parts = encode_response(RequestHeader(ApiKey.FETCH, 12, 1),
                            {"responses": [{"topic": "t", "partitions": [{"records": [b"x" * 24, region]}]}]})
    assert region in parts
    wire = b"".join(p if p is not region else b"r" * 1000 for p in parts)
    (size,) = struct.unpack_from(">i", wire)
    assert size == len(wire) - 4
    _, body = decode_response(ApiKey.FETCH, 12, frame_of(wire))
    assert bytes(body["responses"][0]["partitions"][0]["records"]) == b"x" * 24 + b"r" * 1000


def test_memoryview_records_of_another_format_are_counted_in_bytes() -> None:
    import array
    ints = memoryview(array.array("i", range(10)))
    parts = encode_response(RequestHeader(ApiKey.FETCH, 11, 1),
                            {"responses": [{"topic": "t", "partitions": [{"records": ints}]}]})
    wire = b"".join(parts)
    _, body = decode_response(ApiKey.FETCH, 11, frame_of(wire))
    assert bytes(body["responses"][0]["partitions"][0]["records"]) == ints.tobytes()


def test_error_code_table_agrees_with_kio_on_names_and_retriability() -> None:
    from kio.schema.errors import ErrorCode as KioErrorCode
    theirs = {int(e.value): (e.name.upper(), e.retriable) for e in KioErrorCode}
    ours = {int(e): (e.name, e.retriable) for e in ErrorCode}
    assert ours == theirs


def test_unknown_fields_finds_misspelled_and_wrong_version_keys() -> None:
    from pystreams.broker.protocol import unknown_fields
    body = {"throttle_time_ms": 0, "responses": [{"topic": "t", "topic_id": uuid.uuid4(),
                                                  "partitions": [{"partition_index": 0, "hw": 5}]}]}
    assert unknown_fields(ApiKey.FETCH, 12, body) == ["responses[0].topic_id", "responses[0].partitions[0].hw"]
    assert unknown_fields(ApiKey.FETCH, 13, body) == ["responses[0].topic", "responses[0].partitions[0].hw"]
    assert unknown_fields(ApiKey.HEARTBEAT, 4, {"group_id": "g", "member_id": "m"}, response=False) == []


def test_precompile_builds_every_server_side_codec() -> None:
    from pystreams.broker.protocol import precompile
    from pystreams.broker.protocol.registry import _REQUEST_DECODERS, _RESPONSE_ENCODERS
    assert precompile([ApiKey.HEARTBEAT]) == 2 * 5
    assert all((ApiKey.HEARTBEAT, v) in _REQUEST_DECODERS and (ApiKey.HEARTBEAT, v) in _RESPONSE_ENCODERS
               for v in range(0, 5))
