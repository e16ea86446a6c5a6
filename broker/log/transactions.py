"""Transactions in the log: which transactions are open (they hold the last stable offset back)
and which were aborted, kept in Kafka's `.txnindex` format next to each segment so a
read_committed fetch can tell consumers which records to drop (FetchResponse
AbortedTransactions) and kafka-dump-log can read them.

`.txnindex` entries are 34 bytes: version int16 (0), producerId int64, firstOffset int64,
lastOffset int64 (the abort marker's offset), lastStableOffset int64 (after the abort)."""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from pystreams.broker.protocol.record_batch import (ABORT_MARKER, COMMIT_MARKER, BatchError,
                                                    read_records)

_ENTRY = struct.Struct(">hqqqq")


@dataclass(frozen=True, slots=True)
class AbortedTxn:
    """An aborted transaction: records of `producer_id` in [first_offset, last_offset]."""

    producer_id: int
    first_offset: int
    last_offset: int
    last_stable_offset: int

    def to_bytes(self) -> bytes:
        return _ENTRY.pack(0, self.producer_id, self.first_offset, self.last_offset,
                           self.last_stable_offset)


def marker_type(batch: bytes | memoryview) -> int | None:
    """COMMIT_MARKER/ABORT_MARKER of a control batch's first record, None if unreadable."""
    try:
        records = read_records(batch)
    except BatchError:
        return None
    if not records or records[0].key is None or len(records[0].key) < 4:
        return None
    version, kind = struct.unpack_from(">hh", records[0].key)
    return kind if version == 0 and kind in (COMMIT_MARKER, ABORT_MARKER) else None


def read_txn_index(path: Path) -> list[AbortedTxn]:
    """Entries of a .txnindex (a torn last entry ignored); [] when absent."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    usable = len(data) - len(data) % _ENTRY.size
    return [AbortedTxn(pid, first, last, lso)
            for _, pid, first, last, lso in _ENTRY.iter_unpack(data[:usable])]


def write_txn_index(path: Path, entries: list[AbortedTxn]) -> None:
    """Rewrite a segment's .txnindex (recovery); removes the file when there is nothing."""
    if not entries:
        path.unlink(missing_ok=True)
        return
    path.write_bytes(b"".join(e.to_bytes() for e in entries))


def append_txn_index(path: Path, entry: AbortedTxn) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, entry.to_bytes())
    finally:
        os.close(fd)
