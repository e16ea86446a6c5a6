"""pystreams.broker.protocol: the sans-IO Kafka wire codec (bytes in, dicts out, and back).

Imports nothing else from the project. Conventions (see docs/adr/0001-protocol-codec.md):
- bodies are dicts keyed by Kafka's JSON field names in snake_case ("PartitionIndex" ->
  "partition_index"), arrays are lists of dicts, nullable values None, tagged fields by name;
  fields absent in a version are present with Kafka's default;
- UUID fields (topic_id, ...) are uuid.UUID on decode (zero UUID = Kafka's default); encoders
  take uuid.UUID, 16 raw bytes or None (= the zero UUID);
- Produce/Fetch `records` decode as memoryview slices of the frame (zero copy); on encode they
  may be None, bytes, bytearray, memoryview or a list of those, and come out as separate buffers
  (any other object with an int `nbytes`, e.g. a server's file region for os.sendfile, is passed
  through as one item and counted by its nbytes);
- encoders ignore keys that are not in the schema at that version and fill missing ones with
  Kafka's defaults.
"""
from __future__ import annotations

from .api_keys import FIRST_FLEXIBLE_VERSION, ApiKey
from .codec import (api_versions_keys, decode_request, decode_response, encode_api_versions_fallback,
                    encode_request, encode_response)
from .consumer_protocol import decode_assignment, decode_subscription, encode_assignment, encode_subscription
from .error_codes import ErrorCode, error_name
from .errors import CorruptMessageError, ProtocolError, UnsupportedVersionError
from .header import (RequestHeader, decode_request_header, encode_request_header, request_header_version,
                     response_header_version)
from .registry import APIS, SUPPORTED_VERSIONS, precompile
from .validate import unknown_fields

__all__ = [
    "APIS", "ApiKey", "CorruptMessageError", "ErrorCode", "FIRST_FLEXIBLE_VERSION", "ProtocolError",
    "RequestHeader", "SUPPORTED_VERSIONS", "UnsupportedVersionError", "api_versions_keys",
    "decode_assignment", "decode_request", "decode_request_header", "decode_response",
    "decode_subscription", "encode_api_versions_fallback", "encode_assignment", "encode_request",
    "encode_request_header", "encode_response", "encode_subscription", "error_name", "precompile",
    "request_header_version", "response_header_version", "unknown_fields",
]
