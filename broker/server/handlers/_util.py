"""Small helpers shared by handler modules (version of a header, topic id conversions)."""
from __future__ import annotations

import uuid

ZERO_UUID = uuid.UUID(int=0)


def version(header) -> int:
    """The request's api version."""
    return int(header.api_version)


def as_uuid(value: object) -> uuid.UUID:
    """A topic id as the codec hands it (UUID, 16 bytes or text) as a uuid.UUID."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return uuid.UUID(bytes=bytes(value))
    if value is None:
        return ZERO_UUID
    return uuid.UUID(str(value))


def error_of(exc: BaseException, default: int = -1) -> int:
    """The Kafka error code an exception carries (`.code`), else `default`."""
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return int(code)
    return default
