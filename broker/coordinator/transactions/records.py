"""`__transaction_state` records in Kafka's TransactionLogKey (v0) / TransactionLogValue (v0,
reading v1 too) formats, so kafka-dump-log and Kafka's own coordinator could read our topic.

Key:   version int16 (0), transactional_id string.
Value: version int16, producer_id int64, producer_epoch int16, transaction_timeout_ms int32,
       transaction_status int8, transaction_partitions [topic string, partition_ids [int32]],
       transaction_last_update_timestamp_ms int64, transaction_start_timestamp_ms int64.
A null value (tombstone) removes an expired transactional id."""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum


class TxnRecordError(ValueError):
    """A `__transaction_state` record does not parse: the topic is damaged."""


class TxnState(IntEnum):
    """Kafka's TransactionState ids as stored in TransactionStatus."""

    EMPTY = 0
    ONGOING = 1
    PREPARE_COMMIT = 2
    PREPARE_ABORT = 3
    COMPLETE_COMMIT = 4
    COMPLETE_ABORT = 5
    DEAD = 6
    PREPARE_EPOCH_FENCE = 7

    @property
    def kafka_name(self) -> str:
        """The name DescribeTransactions/ListTransactions and kafka-transactions.sh use."""
        return _NAMES[self]


_NAMES = {TxnState.EMPTY: "Empty", TxnState.ONGOING: "Ongoing",
          TxnState.PREPARE_COMMIT: "PrepareCommit", TxnState.PREPARE_ABORT: "PrepareAbort",
          TxnState.COMPLETE_COMMIT: "CompleteCommit", TxnState.COMPLETE_ABORT: "CompleteAbort",
          TxnState.DEAD: "Dead", TxnState.PREPARE_EPOCH_FENCE: "PrepareEpochFence"}
STATE_BY_NAME = {name: state for state, name in _NAMES.items()}


@dataclass(frozen=True)
class TxnMetadata:
    """One transactional id's state: what a TransactionLogValue holds."""

    transactional_id: str
    producer_id: int
    producer_epoch: int
    timeout_ms: int
    state: TxnState
    partitions: frozenset[tuple[str, int]] = field(default_factory=frozenset)
    last_update_ms: int = -1
    start_ms: int = -1


def _string(value: str) -> bytes:
    raw = value.encode()
    return struct.pack(">h", len(raw)) + raw


def encode_key(transactional_id: str) -> bytes:
    return struct.pack(">h", 0) + _string(transactional_id)


def decode_key(raw: bytes) -> str:
    try:
        version, n = struct.unpack_from(">hh", raw)
        if version != 0:
            raise TxnRecordError(f"TransactionLogKey version {version} is not supported")
        return raw[4:4 + n].decode()
    except (struct.error, UnicodeDecodeError) as exc:
        raise TxnRecordError(f"bad TransactionLogKey: {exc}") from None


def encode_value(meta: TxnMetadata) -> bytes:
    out = bytearray(struct.pack(">hqhib", 0, meta.producer_id, meta.producer_epoch,
                                meta.timeout_ms, int(meta.state)))
    by_topic: dict[str, list[int]] = {}
    for topic, partition in sorted(meta.partitions):
        by_topic.setdefault(topic, []).append(partition)
    out += struct.pack(">i", len(by_topic))
    for topic, parts in by_topic.items():
        out += _string(topic) + struct.pack(f">i{len(parts)}i", len(parts), *parts)
    out += struct.pack(">qq", meta.last_update_ms, meta.start_ms)
    return bytes(out)


class _Reader:
    def __init__(self, raw: bytes, flexible: bool) -> None:
        self.raw, self.pos, self.flexible = raw, 0, flexible

    def take(self, fmt: str):
        values = struct.unpack_from(fmt, self.raw, self.pos)
        self.pos += struct.calcsize(fmt)
        return values[0] if len(values) == 1 else values

    def uvarint(self) -> int:
        shift = result = 0
        while True:
            b = self.raw[self.pos]
            self.pos += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def array_len(self) -> int:
        return self.uvarint() - 1 if self.flexible else self.take(">i")

    def string(self) -> str:
        n = self.uvarint() - 1 if self.flexible else self.take(">h")
        value = self.raw[self.pos:self.pos + n].decode()
        self.pos += n
        return value

    def skip_tags(self) -> None:
        if self.flexible:
            for _ in range(self.uvarint()):
                self.uvarint()
                self.pos += self.uvarint()


def decode_value(transactional_id: str, raw: bytes) -> TxnMetadata:
    """Parse a TransactionLogValue v0 or v1 (flexible; its tagged fields are skipped)."""
    try:
        version = struct.unpack_from(">h", raw)[0]
        if version not in (0, 1):
            raise TxnRecordError(f"TransactionLogValue version {version} is not supported")
        r = _Reader(raw, flexible=version >= 1)
        r.pos = 2
        pid, epoch, timeout, status = r.take(">qhib")
        partitions: set[tuple[str, int]] = set()
        n_topics = r.array_len()
        for _ in range(max(n_topics, 0)):
            topic = r.string()
            for _ in range(r.array_len()):
                partitions.add((topic, r.take(">i")))
            r.skip_tags()
        last_update, start = r.take(">qq")
        return TxnMetadata(transactional_id, pid, epoch, timeout, TxnState(status),
                           frozenset(partitions), last_update, start)
    except (struct.error, IndexError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, TxnRecordError):
            raise
        raise TxnRecordError(f"bad TransactionLogValue for {transactional_id!r}: {exc}") from None
