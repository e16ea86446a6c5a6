"""Kafka's per-log-dir checkpoint files, in Kafka's text format, so an operator (or a real
Kafka) reads them: `recovery-point-offset-checkpoint`, `log-start-offset-checkpoint` and
`cleaner-offset-checkpoint` (version line, count line, then `topic partition offset` lines),
and the `.kafka_cleanshutdown` marker that tells the next start it may skip recovery."""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

RECOVERY_POINT_CHECKPOINT = "recovery-point-offset-checkpoint"
LOG_START_OFFSET_CHECKPOINT = "log-start-offset-checkpoint"
CLEANER_OFFSET_CHECKPOINT = "cleaner-offset-checkpoint"
CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown"

TopicPartition = tuple[str, int]


def write_checkpoint(path: Path, offsets: Mapping[TopicPartition, int]) -> None:
    """Write atomically (temp file, fsync, rename), as Kafka's CheckpointFile does."""
    lines = ["0", str(len(offsets))]
    lines += [f"{topic} {partition} {offset}"
              for (topic, partition), offset in sorted(offsets.items())]
    _atomic_write(path, ("\n".join(lines) + "\n").encode())


def read_checkpoint(path: Path) -> dict[TopicPartition, int]:
    """Offsets by partition; an absent or malformed file reads as empty (full recovery)."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return {}
    try:
        if lines[0].strip() != "0":
            return {}
        count = int(lines[1])
        out: dict[TopicPartition, int] = {}
        for line in lines[2:2 + count]:
            topic, partition, offset = line.split()
            out[(topic, int(partition))] = int(offset)
        return out if len(out) == count else {}
    except (IndexError, ValueError):
        return {}


def write_clean_shutdown(log_dir: Path, broker_epoch: int = -1) -> None:
    _atomic_write(log_dir / CLEAN_SHUTDOWN_FILE,
                  json.dumps({"version": 0, "broker_epoch": broker_epoch}).encode())


def take_clean_shutdown(log_dir: Path) -> bool:
    """True when the last shutdown was clean; removes the marker (a crash leaves none)."""
    marker = log_dir / CLEAN_SHUTDOWN_FILE
    if not marker.exists():
        return False
    marker.unlink()
    _fsync_dir(log_dir)
    return True


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
