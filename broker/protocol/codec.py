"""The codec's front door: requests in (server side), responses out as buffer lists, and the other
direction for clients, tests and tools. Errors: UnsupportedVersionError for a key/version the
codec does not implement, CorruptMessageError for malformed or hostile bytes."""
from __future__ import annotations

import struct
from typing import Any

from .api_keys import ApiKey
from .error_codes import ErrorCode
from .errors import CorruptMessageError
from .header import RequestHeader, encode_request_header, response_header_version, skip_tagged_fields
from .primitives import Buffer
from .registry import (SUPPORTED_VERSIONS, api_for, request_decoder, request_encoder, response_decoder,
                       response_encoder)

_SIZE_CORR = struct.Struct(">ii")
_SIZE = struct.Struct(">i")
# what a malformed frame can make the compiled decoders raise, turned into CorruptMessageError
_MALFORMED = (struct.error, IndexError, UnicodeDecodeError, ValueError, OverflowError, MemoryError)


def decode_request(header: RequestHeader, frame: memoryview | bytes, offset: int) -> dict[str, Any]:
    """The request body at `offset` as a dict (see the package docstring); trailing bytes ignored."""
    decode = request_decoder(header.api_key, header.api_version)
    if not isinstance(frame, memoryview):
        frame = memoryview(frame)
    try:
        return decode(frame, offset, len(frame))[0]
    except CorruptMessageError:
        raise
    except _MALFORMED as exc:
        raise _corrupt(header.api_key, header.api_version, exc) from None


def encode_response(header: RequestHeader, body: dict[str, Any]) -> list[Buffer]:
    """The whole response (size prefix, response header, body) as a list of buffers to write.

    Record bytes are separate items, never copied; the other items are our own bytearrays."""
    key = (header.api_key, header.api_version)
    entry = _RESPONSE_PLANS.get(key)
    if entry is None:
        entry = _RESPONSE_PLANS[key] = (response_encoder(*key), response_header_version(*key) == 1)
    encode, tagged_header = entry
    head = bytearray(_SIZE_CORR.pack(0, header.correlation_id))
    if tagged_header:
        head.append(0)
    parts: list[Any] = [head]
    try:
        encode(body, parts)
    except (struct.error, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"cannot encode {_name(header.api_key)} v{header.api_version} response: {exc}") from exc
    if len(parts) == 1:
        _SIZE.pack_into(head, 0, len(head) - 4)
        return parts
    total = 0
    for part in parts:  # our bytearrays and bytes, or record buffers / file regions with nbytes
        total += len(part) if type(part) is bytearray or type(part) is bytes else part.nbytes
    _SIZE.pack_into(head, 0, total - 4)
    if not parts[-1]:
        parts.pop()
    return parts


# (api_key, version) -> (compiled encoder, response header has tagged fields)
_RESPONSE_PLANS: dict[tuple[int, int], tuple[Any, bool]] = {}


def encode_request(header: RequestHeader, body: dict[str, Any]) -> bytes:
    """A whole request including its 4-byte size prefix (for clients, tools and tests)."""
    encode = request_encoder(header.api_key, header.api_version)
    parts: list[Any] = [bytearray(4) + encode_request_header(header)]
    try:
        encode(body, parts)
    except (struct.error, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"cannot encode {_name(header.api_key)} v{header.api_version} request: {exc}") from exc
    out = b"".join(parts)
    return _SIZE.pack(len(out) - 4) + out[4:]


def decode_response(api_key: int, version: int, frame: memoryview | bytes) -> tuple[int, dict[str, Any]]:
    """(correlation id, body) of one response frame WITHOUT its size prefix."""
    decode = response_decoder(api_key, version)
    if not isinstance(frame, memoryview):
        frame = memoryview(frame)
    try:
        (correlation_id,) = struct.unpack_from(">i", frame, 0)
        o = 4
        if response_header_version(api_key, version) == 1:
            o = skip_tagged_fields(frame, o, len(frame))
        return correlation_id, decode(frame, o, len(frame))[0]
    except CorruptMessageError:
        raise
    except _MALFORMED as exc:
        raise _corrupt(api_key, version, exc) from None


def api_versions_keys(versions: dict[int, tuple[int, int]] | None = None) -> list[dict[str, int]]:
    """The ApiVersions `api_keys` list for `versions` (default: everything the codec implements;
    a server passes what its handlers serve)."""
    return [{"api_key": key, "min_version": lo, "max_version": hi}
            for key, (lo, hi) in sorted((SUPPORTED_VERSIONS if versions is None else versions).items())]


def encode_api_versions_fallback(correlation_id: int,
                                 versions: dict[int, tuple[int, int]] | None = None) -> list[bytes]:
    """ApiVersions v0 answer with UNSUPPORTED_VERSION and the key list (default: SUPPORTED_VERSIONS),
    for a client that asked with a newer ApiVersions version than we implement: it retries with
    the highest version we list."""
    body = {"error_code": ErrorCode.UNSUPPORTED_VERSION, "api_keys": api_versions_keys(versions)}
    header = RequestHeader(ApiKey.API_VERSIONS, 0, correlation_id)
    return [bytes(b"".join(encode_response(header, body)))]


def _name(api_key: int) -> str:
    try:
        return ApiKey(api_key).name
    except ValueError:
        return f"api {api_key}"


def _corrupt(api_key: int, version: int, exc: BaseException) -> CorruptMessageError:
    api = api_for(api_key, version)
    return CorruptMessageError(f"malformed {api.name} v{version}: {type(exc).__name__}: {exc}")
