"""Request and response headers. The request header is v1 (api key, version, correlation id,
nullable client id) or v2 (v1 + tagged fields) from the API's first flexible version on; the
response header is v0 (correlation id) or v1 (+ tagged fields), except that ApiVersions
responses always use v0 so that any client can read the answer to its first request."""
from __future__ import annotations

import struct
from dataclasses import dataclass

from .api_keys import FIRST_FLEXIBLE_VERSION, ApiKey
from .errors import CorruptMessageError
from .primitives import read_uvarint

_FIXED = struct.Struct(">hhih")
_STR_LEN = struct.Struct(">h")


@dataclass(slots=True)
class RequestHeader:
    """The header of one request; header tagged fields (none are defined for brokers) are skipped."""

    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None = None


def request_header_version(api_key: int, api_version: int) -> int:
    """1 or 2: v2 (with tagged fields) from the API's first flexible version on (any known API)."""
    first = FIRST_FLEXIBLE_VERSION.get(api_key)
    return 2 if first is not None and api_version >= first else 1


def response_header_version(api_key: int, api_version: int) -> int:
    """0 or 1; ApiVersions always answers with header v0."""
    if api_key == ApiKey.API_VERSIONS:
        return 0
    return 1 if request_header_version(api_key, api_version) == 2 else 0


def decode_request_header(frame: memoryview | bytes) -> tuple[RequestHeader, int]:
    """Read the header of one request frame (no size prefix); returns it and the body offset.

    Works for every API key Kafka defines, implemented or not, so that the server can answer an
    unsupported request with UNSUPPORTED_VERSION instead of dropping the connection."""
    if type(frame) is not memoryview:
        frame = memoryview(frame)
    end = len(frame)
    if end < 10:
        raise CorruptMessageError(f"request header needs at least 10 bytes, got {end}")
    api_key, api_version, correlation_id, n = _FIXED.unpack_from(frame, 0)
    o = 10
    client_id: str | None = None
    if n >= 0:
        if n > end - o:
            raise CorruptMessageError(f"client_id: length {n} but {end - o} bytes left")
        try:
            client_id = str(frame[10:10 + n], "utf-8")
        except UnicodeDecodeError as exc:
            raise CorruptMessageError(f"client_id is not UTF-8: {exc}") from None
        o += n
    first = FIRST_FLEXIBLE_VERSION.get(api_key)
    if first is not None and api_version >= first:
        if o < end and frame[o] == 0:  # the usual case: no header tagged fields
            o += 1
        else:
            o = skip_tagged_fields(frame, o, end)
    return RequestHeader(api_key, api_version, correlation_id, client_id), o


def skip_tagged_fields(buf: memoryview, o: int, end: int) -> int:
    """Skip a tagged-field section (count, then tag/size/data triples), checking every size."""
    try:
        count, o = read_uvarint(buf, o)
        if count > end - o:
            raise CorruptMessageError("tagged fields: count beyond the frame")
        for _ in range(count):
            _tag, o = read_uvarint(buf, o)
            size, o = read_uvarint(buf, o)
            if size > end - o:
                raise CorruptMessageError("tagged field: size beyond the frame")
            o += size
    except IndexError:
        raise CorruptMessageError("truncated tagged fields") from None
    return o


def encode_request_header(header: RequestHeader) -> bytes:
    """The header bytes of a request (no size prefix), in the version its API/version calls for."""
    if header.client_id is None:
        out = _FIXED.pack(header.api_key, header.api_version, header.correlation_id, -1)
    else:
        raw = header.client_id.encode()
        out = _FIXED.pack(header.api_key, header.api_version, header.correlation_id, len(raw)) + raw
    if request_header_version(header.api_key, header.api_version) == 2:
        out += b"\x00"
    return out
