"""Producer state snapshots: `<offset>.snapshot` files in Kafka's ProducerSnapshot v1 format,
written when a segment rolls and on clean close, so idempotent/transactional producer state
survives restarts without rescanning every segment AND survives retention deleting all of a
producer's batches (Kafka keeps such producers until producer.id.expiration.ms, KAFKA-7190).

Layout: version int16 (1), crc uint32 (CRC-32C of what follows), entries int32 count, then per
producer: producer_id int64, epoch int16, last_sequence int32, last_offset int64,
offset_delta int32, timestamp int64, coordinator_epoch int32, current_txn_first_offset int64
(-1 when no transaction is open)."""
from __future__ import annotations

import os
import struct
from pathlib import Path

from crc32c import crc32c

from .producer_state import BatchMetadata, ProducerEntry, ProducerStateManager

_HEAD = struct.Struct(">hI")
_ENTRY = struct.Struct(">qhiqiqiq")
VERSION = 1
SUFFIX = ".snapshot"


def snapshot_path(directory: Path, offset: int) -> Path:
    return directory / f"{offset:020d}{SUFFIX}"


def list_snapshots(directory: Path) -> list[int]:
    """Offsets of the snapshot files in `directory`, ascending."""
    out = []
    for path in directory.glob(f"*{SUFFIX}"):
        try:
            out.append(int(path.name[:-len(SUFFIX)]))
        except ValueError:
            continue
    return sorted(out)


def write_snapshot(directory: Path, offset: int, state: ProducerStateManager) -> None:
    """Write the state as of `offset` (temp file, fsync, rename: never a torn snapshot)."""
    body = bytearray(struct.pack(">i", len(state.producers)))
    for pid, e in sorted(state.producers.items()):
        last = e.batches[-1] if e.batches else None
        body += _ENTRY.pack(pid, e.epoch, last.last_seq if last else -1,
                            last.last_offset if last else -1,
                            (last.last_offset - last.first_offset) if last else 0,
                            e.last_timestamp, 0, state.ongoing.get(pid, -1))
    data = _HEAD.pack(VERSION, crc32c(bytes(body))) + bytes(body)
    path = snapshot_path(directory, offset)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_snapshot(directory: Path, offset: int) -> ProducerStateManager | None:
    """The state a snapshot holds, or None when it is damaged (the caller rescans the log)."""
    try:
        data = snapshot_path(directory, offset).read_bytes()
        version, crc = _HEAD.unpack_from(data)
        if version != VERSION or crc32c(data[_HEAD.size:]) != crc:
            return None
        (count,) = struct.unpack_from(">i", data, _HEAD.size)
        pos = _HEAD.size + 4
        if len(data) != pos + count * _ENTRY.size:
            return None
        state = ProducerStateManager()
        for pid, epoch, last_seq, last_offset, delta, ts, _, txn_first in _ENTRY.iter_unpack(
                data[pos:]):
            entry = ProducerEntry(epoch, last_timestamp=ts)
            if last_offset >= 0:
                first_seq = last_seq - delta if last_seq >= 0 else -1
                entry.batches.append(BatchMetadata(first_seq, last_seq, last_offset - delta,
                                                   last_offset, ts))
            state.producers[pid] = entry
            if txn_first >= 0:
                state.ongoing[pid] = txn_first
        return state
    except (OSError, struct.error):
        return None
