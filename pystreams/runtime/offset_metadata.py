"""Kafka Streams' committed-offset metadata (TopicPartitionMetadata): why it matters is interoperability, a Java
app taking over a pystreams group (or the reverse) seeds each input partition's time from the commit metadata.

Format (base64 text): magic byte 2 | partition time as 8-byte big-endian signed long | ProcessorMetadata bytes
(empty when no entries; else int32 count, per entry int32 keyLen, UTF-8 key, int64 value). Magic 1 carries only the
partition time. Empty/None metadata -> UNKNOWN (-1); undecodable -> UNKNOWN with a warning, as Kafka does.
"""
from __future__ import annotations

import base64
import binascii
import logging
import struct
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

UNKNOWN = -1  # RecordQueue.UNKNOWN
LATEST_MAGIC_BYTE = 2


@dataclass(frozen=True)
class TopicPartitionMetadata:
    """Partition time plus processor metadata (name -> long) decoded from a committed offset's metadata."""
    partition_time: int = UNKNOWN
    processor_metadata: dict[str, int] = field(default_factory=dict)


def _serialize_processor_metadata(entries: dict[str, int]) -> bytes:
    if not entries:
        return b""
    out = [struct.pack(">i", len(entries))]
    for key, value in entries.items():
        kb = key.encode("utf-8")
        out.append(struct.pack(">i", len(kb)) + kb + struct.pack(">q", value))
    return b"".join(out)


def _deserialize_processor_metadata(data: bytes) -> dict[str, int]:
    if not data:
        return {}
    (count,) = struct.unpack_from(">i", data, 0)
    pos, entries = 4, {}
    for _ in range(count):
        (klen,) = struct.unpack_from(">i", data, pos)
        pos += 4
        if klen < 0 or pos + klen > len(data):
            raise ValueError("processor metadata key runs past the end")
        key = data[pos:pos + klen].decode("utf-8")
        pos += klen
        (entries[key],) = struct.unpack_from(">q", data, pos)
        pos += 8
    return entries


def encode(partition_time: int, processor_metadata: dict[str, int] | None = None) -> str:
    """TopicPartitionMetadata.encode(): the metadata string to commit with an input partition's offset."""
    raw = (bytes([LATEST_MAGIC_BYTE]) + struct.pack(">q", partition_time)
           + _serialize_processor_metadata(processor_metadata or {}))
    return base64.b64encode(raw).decode("ascii")


def decode(metadata: str | bytes | None) -> TopicPartitionMetadata:
    """TopicPartitionMetadata.decode(): never raises; unknown/empty -> UNKNOWN, undecodable -> UNKNOWN + warning."""
    if metadata is None or len(metadata) == 0:
        return TopicPartitionMetadata()
    try:
        raw = base64.b64decode(metadata, validate=True)
        magic = raw[0]
        if magic == 1:
            (ptime,) = struct.unpack_from(">q", raw, 1)
            return TopicPartitionMetadata(ptime)
        if magic == LATEST_MAGIC_BYTE:
            (ptime,) = struct.unpack_from(">q", raw, 1)
            return TopicPartitionMetadata(ptime, _deserialize_processor_metadata(raw[9:]))
        log.warning("Unsupported offset metadata version found: %s", magic)
    except (binascii.Error, ValueError, IndexError, struct.error, UnicodeDecodeError) as exc:
        log.warning("Unsupported offset metadata found %r: %s", metadata, exc)
    return TopicPartitionMetadata()
