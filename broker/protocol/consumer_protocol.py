"""Encode/decode the consumer protocol's subscription and assignment bytes (JoinGroup member
metadata, SyncGroup assignments), for the coordinator, DescribeGroups output and the CLI.

Like Kafka, a version newer than we know is read with the newest layout we know (newer versions
only append fields), so a newer client's metadata still yields its topics and partitions."""
from __future__ import annotations

import struct
from functools import lru_cache
from typing import Any

from .compiler import Decoder, Encoder, compile_decoder, compile_encoder
from .errors import CorruptMessageError
from .messages.consumer_protocol import ASSIGNMENT, SUBSCRIPTION, VERSIONS
from .schema import F

_VERSION = struct.Struct(">h")
_SCHEMAS = {"subscription": SUBSCRIPTION, "assignment": ASSIGNMENT}


@lru_cache(maxsize=None)
def _decoder(kind: str, version: int) -> Decoder:
    return compile_decoder(_SCHEMAS[kind], version, False)


@lru_cache(maxsize=None)
def _encoder(kind: str, version: int) -> Encoder:
    return compile_encoder(_SCHEMAS[kind], version, False)


def _decode(kind: str, data: bytes | memoryview) -> tuple[int, dict[str, Any]]:
    buf = memoryview(data)
    try:
        (version,) = _VERSION.unpack_from(buf, 0)
        if version < VERSIONS[0]:
            raise CorruptMessageError(f"consumer protocol {kind}: negative version {version}")
        body, _ = _decoder(kind, min(version, VERSIONS[1]))(buf, 2, len(buf))
    except CorruptMessageError:
        raise
    except (struct.error, IndexError, UnicodeDecodeError, ValueError) as exc:
        raise CorruptMessageError(f"consumer protocol {kind}: {type(exc).__name__}: {exc}") from None
    return version, body


def _encode(kind: str, body: dict[str, Any], version: int) -> bytes:
    if not VERSIONS[0] <= version <= VERSIONS[1]:
        raise ValueError(f"consumer protocol {kind} version {version} not in {VERSIONS}")
    parts: list[Any] = [bytearray(_VERSION.pack(version))]
    _encoder(kind, version)(body, parts)
    return b"".join(parts)


def decode_subscription(data: bytes | memoryview) -> tuple[int, dict[str, Any]]:
    """(version, {topics, user_data, owned_partitions, generation_id, rack_id}) of member metadata."""
    return _decode("subscription", data)


def encode_subscription(body: dict[str, Any], version: int = VERSIONS[1]) -> bytes:
    """Member metadata bytes for JoinGroup's "consumer" protocol (missing fields: defaults)."""
    return _encode("subscription", body, version)


def decode_assignment(data: bytes | memoryview) -> tuple[int, dict[str, Any]]:
    """(version, {assigned_partitions: [{topic, partitions}], user_data}) of a member assignment."""
    return _decode("assignment", data)


def encode_assignment(body: dict[str, Any], version: int = VERSIONS[1]) -> bytes:
    """Assignment bytes for SyncGroup's "consumer" protocol (missing fields: defaults)."""
    return _encode("assignment", body, version)


def fields(kind: str) -> tuple[F, ...]:
    """The schema of "subscription" or "assignment" (for tests and tools)."""
    return _SCHEMAS[kind]
