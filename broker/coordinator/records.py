"""`__consumer_offsets` record keys and values in Kafka's formats (group-coordinator's
OffsetCommitKey/Value and GroupMetadataKey/Value message specs), so Kafka's own tools
(`kafka-dump-log --offsets-decoder`) can read what we store.

Key: int16 key version, then the key struct (1 = offset commit, 2 = group metadata).
Value: int16 value version, then the value struct; a null value is a tombstone.
We write OffsetCommitValue v3 and GroupMetadataValue v3 (the last non-flexible versions,
what Kafka writes for classic groups) and read versions 0-3.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

OFFSET_COMMIT_KEY_VERSION = 1
GROUP_METADATA_KEY_VERSION = 2
OFFSET_COMMIT_VALUE_VERSION = 3
GROUP_METADATA_VALUE_VERSION = 3


class RecordFormatError(ValueError):
    """A `__consumer_offsets` record does not parse; the offsets topic is damaged."""


@dataclass(frozen=True)
class OffsetKey:
    group: str
    topic: str
    partition: int


@dataclass(frozen=True)
class GroupKey:
    group: str


@dataclass(frozen=True)
class OffsetValue:
    offset: int
    leader_epoch: int
    metadata: str
    commit_timestamp: int
    expire_timestamp: int = -1


@dataclass(frozen=True)
class MemberValue:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout: int
    session_timeout: int
    subscription: bytes
    assignment: bytes


@dataclass(frozen=True)
class GroupValue:
    protocol_type: str
    generation: int
    protocol: str | None
    leader: str | None
    current_state_timestamp: int
    members: tuple[MemberValue, ...] = field(default_factory=tuple)


# --- primitive writers/readers (classic, non-flexible encoding) ------------------------------

def _str(value: str | None) -> bytes:
    if value is None:
        return struct.pack(">h", -1)
    raw = value.encode()
    return struct.pack(">h", len(raw)) + raw


def _bytes(value: bytes | None) -> bytes:
    if value is None:
        return struct.pack(">i", -1)
    return struct.pack(">i", len(value)) + bytes(value)


class _Reader:
    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str):
        s = struct.Struct(fmt)
        if self.pos + s.size > len(self.buf):
            raise RecordFormatError("record ends in the middle of a field")
        (value,) = s.unpack_from(self.buf, self.pos)
        self.pos += s.size
        return value

    def string(self) -> str | None:
        n = self.take(">h")
        if n < 0:
            return None
        return self.raw(n).decode()

    def bytes_(self) -> bytes | None:
        n = self.take(">i")
        return None if n < 0 else self.raw(n)

    def raw(self, n: int) -> bytes:
        if self.pos + n > len(self.buf):
            raise RecordFormatError("record field runs past the end")
        out = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return out


# --- keys -----------------------------------------------------------------------------------

def encode_offset_key(key: OffsetKey) -> bytes:
    return (struct.pack(">h", OFFSET_COMMIT_KEY_VERSION) + _str(key.group) + _str(key.topic)
            + struct.pack(">i", key.partition))


def encode_group_key(key: GroupKey) -> bytes:
    return struct.pack(">h", GROUP_METADATA_KEY_VERSION) + _str(key.group)


def decode_key(raw: bytes) -> OffsetKey | GroupKey | None:
    """The key, or None for key types this coordinator does not own (e.g. KIP-848 records)."""
    r = _Reader(raw)
    version = r.take(">h")
    if version in (0, 1):
        return OffsetKey(r.string() or "", r.string() or "", r.take(">i"))
    if version == 2:
        return GroupKey(r.string() or "")
    return None


# --- values ---------------------------------------------------------------------------------

def encode_offset_value(value: OffsetValue) -> bytes:
    return (struct.pack(">hqi", OFFSET_COMMIT_VALUE_VERSION, value.offset, value.leader_epoch)
            + _str(value.metadata) + struct.pack(">q", value.commit_timestamp))


def decode_offset_value(raw: bytes) -> OffsetValue:
    r = _Reader(raw)
    version = r.take(">h")
    if version > 3:
        raise RecordFormatError(f"OffsetCommitValue version {version} is not supported")
    offset = r.take(">q")
    epoch = r.take(">i") if version >= 3 else -1
    metadata = r.string() or ""
    commit_ts = r.take(">q")
    expire_ts = r.take(">q") if version == 1 else -1
    return OffsetValue(offset, epoch, metadata, commit_ts, expire_ts)


def encode_group_value(value: GroupValue) -> bytes:
    out = [struct.pack(">h", GROUP_METADATA_VALUE_VERSION), _str(value.protocol_type),
           struct.pack(">i", value.generation), _str(value.protocol), _str(value.leader),
           struct.pack(">qi", value.current_state_timestamp, len(value.members))]
    for m in value.members:
        out += [_str(m.member_id), _str(m.group_instance_id), _str(m.client_id),
                _str(m.client_host), struct.pack(">ii", m.rebalance_timeout, m.session_timeout),
                _bytes(m.subscription), _bytes(m.assignment)]
    return b"".join(out)


def decode_group_value(raw: bytes) -> GroupValue:
    r = _Reader(raw)
    version = r.take(">h")
    if version > 3:
        raise RecordFormatError(f"GroupMetadataValue version {version} is not supported")
    protocol_type = r.string() or ""
    generation = r.take(">i")
    protocol = r.string()
    leader = r.string()
    state_ts = r.take(">q") if version >= 2 else -1
    count = r.take(">i")
    if count < 0 or count > len(raw):
        raise RecordFormatError(f"GroupMetadataValue declares {count} members")
    members = []
    for _ in range(count):
        member_id = r.string() or ""
        instance = r.string() if version >= 3 else None
        client_id = r.string() or ""
        client_host = r.string() or ""
        rebalance = r.take(">i") if version >= 1 else -1
        session = r.take(">i")
        subscription = r.bytes_() or b""
        assignment = r.bytes_() or b""
        members.append(MemberValue(member_id, instance, client_id, client_host,
                                   rebalance if version >= 1 else session, session,
                                   subscription, assignment))
    return GroupValue(protocol_type, generation, protocol, leader, state_ts, tuple(members))
