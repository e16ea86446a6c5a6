"""The consumer-group metadata confluent-kafka's Producer.send_offsets_to_transaction() takes, built from OUR
member id and generation (librdkafka's Consumer never joins the group, so its own metadata would carry
generation -1 and no member, and the broker could not fence a zombie by generation: KIP-447).

Format: librdkafka's rd_kafka_consumer_group_metadata_write() ("for client binding use"), which is what
Consumer.consumer_group_metadata() returns and send_offsets_to_transaction() reads back:
b"CGMDv2:" + generation_id as a native-endian int32 + group_id + NUL + member_id + NUL + then either b"\\x01"
(no group.instance.id) or b"\\x00" + group_instance_id + NUL. Checked against the installed librdkafka by
tests/unit/runtime/group/test_metadata.py."""
from __future__ import annotations

import struct

from pystreams.errors import PystreamsError

_MAGIC = b"CGMDv2:"
_GENERATION = struct.Struct("=i")  # native byte order, standard size: librdkafka memcpy()s the int32


def consumer_group_metadata(group_id: str, generation_id: int, member_id: str,
                            group_instance_id: str | None = None) -> bytes:
    """librdkafka's serialized consumer group metadata for send_offsets_to_transaction()."""
    for name, value in (("group_id", group_id), ("member_id", member_id), ("group_instance_id", group_instance_id)):
        if value is not None and "\0" in value:
            raise PystreamsError(f"{name} {value!r} contains a NUL byte")
    out = _MAGIC + _GENERATION.pack(generation_id) + group_id.encode() + b"\0" + member_id.encode() + b"\0"
    if group_instance_id is None:
        return out + b"\x01"
    return out + b"\x00" + group_instance_id.encode() + b"\0"


def parse_consumer_group_metadata(data: bytes) -> tuple[str, int, str, str | None]:
    """(group_id, generation_id, member_id, group_instance_id) of librdkafka's serialized metadata."""
    if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 4 + 3:
        raise PystreamsError(f"not librdkafka consumer group metadata: {data[:16]!r}")
    (generation,) = _GENERATION.unpack_from(data, len(_MAGIC))
    rest = data[len(_MAGIC) + 4:]
    group, _, rest = rest.partition(b"\0")
    member, _, rest = rest.partition(b"\0")
    if rest == b"\x01":
        instance = None
    elif rest.startswith(b"\x00") and rest.endswith(b"\0"):
        instance = rest[1:-1].decode()
    else:
        raise PystreamsError(f"consumer group metadata has an unexpected tail {rest!r}")
    return group.decode(), generation, member.decode(), instance
