"""Exceptions the codec raises; each carries the Kafka error code a server should answer with."""
from __future__ import annotations

from .error_codes import ErrorCode


class ProtocolError(Exception):
    """Root of the codec's errors (the protocol package imports nothing else from the project)."""

    error_code: ErrorCode = ErrorCode.UNKNOWN_SERVER_ERROR


class UnsupportedVersionError(ProtocolError):
    """The request names an API key or version this codec does not implement.

    The server answers it with UNSUPPORTED_VERSION (ApiVersions: the v0 fallback answer)."""

    error_code = ErrorCode.UNSUPPORTED_VERSION

    def __init__(self, api_key: int, version: int) -> None:
        super().__init__(f"unsupported api key {api_key} version {version}")
        self.api_key = api_key
        self.version = version


class CorruptMessageError(ProtocolError, ValueError):
    """The bytes are malformed or hostile (truncated, a length beyond the frame, bad UTF-8).

    Kafka answers an unparsable request by closing that client's connection (INVALID_REQUEST is
    logged); the error code is there for servers that prefer to answer first."""

    error_code = ErrorCode.INVALID_REQUEST
