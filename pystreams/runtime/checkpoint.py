"""`.checkpoint` files in Kafka's OffsetCheckpoint format, and task directory locks.

Format (Kafka's OffsetCheckpoint, version 0): a line with the version `0`, a line with the entry count, then one
`<topic> <partition> <offset>` line per changelog partition; the offset is the last changelog offset the store's
data reflects (restore resumes at offset + 1), or OFFSET_UNKNOWN (-4) for a persistent store that reflects no
changelog offset yet (an empty changelog): restored from the changelog's beginning. Like Kafka, no other negative
offset is written (an error) and one read is skipped with a warning; an empty map deletes the file instead.
Written to `.checkpoint.tmp`, fsynced, renamed over `.checkpoint`.
"""
from __future__ import annotations

import fcntl
import logging
import os
from typing import IO

from pystreams.errors import StateStoreError

CHECKPOINT_FILE = ".checkpoint"
LOCK_FILE = ".lock"
VERSION = 0
#: Kafka's OffsetCheckpoint.OFFSET_UNKNOWN: a persistent logged store without a known changelog offset
OFFSET_UNKNOWN = -4

log = logging.getLogger("pystreams.runtime")


class CheckpointError(StateStoreError):
    """A `.checkpoint` file is malformed; delete it (the state is then restored from the changelog)."""


def known_offset(offset: int | None) -> int | None:
    """A checkpointed offset as a changelog offset: None when there is none or it is OFFSET_UNKNOWN (restore from
    the changelog's beginning), like Kafka's ProcessorStateManager.changelogOffsetFromCheckpointedOffset."""
    return offset if offset is not None and offset >= 0 else None


def read_checkpoint(task_dir: str) -> dict[tuple[str, int], int]:
    """(topic, partition) -> offset from `<task_dir>/.checkpoint` (OFFSET_UNKNOWN kept: the file says the store
    has no changelog offset; see known_offset); empty when there is none. Other negative offsets are skipped
    with a warning, as Kafka's OffsetCheckpoint.read does (pystreams before this wrote -1 for an empty changelog:
    such a store is then restored from the beginning)."""
    path = os.path.join(task_dir, CHECKPOINT_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return {}
    try:
        version = int(lines[0])
        if version != VERSION:
            raise CheckpointError(f"{path}: unknown checkpoint file version {version} (expected {VERSION})")
        count = int(lines[1])
        entries = [line.split() for line in lines[2:2 + count] if line.strip()]
        if len(entries) != count:
            raise CheckpointError(f"{path}: expected {count} entries, found {len(entries)}")
        out: dict[tuple[str, int], int] = {}
        for topic, partition, offset in entries:
            if int(offset) < 0 and int(offset) != OFFSET_UNKNOWN:
                log.warning("Read offset=%s from checkpoint file %s for %s-%s: ignored (restored from the "
                            "changelog's beginning)", offset, path, topic, partition)
                continue
            out[(topic, int(partition))] = int(offset)
        return out
    except (IndexError, ValueError) as e:
        raise CheckpointError(f"{path} is malformed ({e}); delete it to restore the state from the "
                              "changelog") from None


def write_checkpoint(task_dir: str, offsets: dict[tuple[str, int], int]) -> None:
    """Atomically replace `<task_dir>/.checkpoint` with offsets (Kafka's OffsetCheckpoint.write): each offset
    >= 0 or OFFSET_UNKNOWN (CheckpointError otherwise: a caller bug, nothing is written); no offsets at all
    deletes the file (Kafka skips writing an empty checkpoint)."""
    bad = {tp: o for tp, o in offsets.items() if o < 0 and o != OFFSET_UNKNOWN}
    if bad:
        raise CheckpointError(f"attempted to write negative offsets {bad} to the checkpoint file in {task_dir} "
                              f"(a store without a changelog offset is written as OFFSET_UNKNOWN {OFFSET_UNKNOWN})")
    if not offsets:
        delete_checkpoint(task_dir)
        return
    os.makedirs(task_dir, exist_ok=True)
    path = os.path.join(task_dir, CHECKPOINT_FILE)
    tmp = path + ".tmp"
    lines = [str(VERSION), str(len(offsets))]
    lines += [f"{topic} {partition} {offset}" for (topic, partition), offset in sorted(offsets.items())]
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def delete_checkpoint(task_dir: str) -> None:
    """Remove the checkpoint (under EOS once processing starts: a crash then means wipe and restore)."""
    try:
        os.remove(os.path.join(task_dir, CHECKPOINT_FILE))
    except FileNotFoundError:
        pass


class TaskDirLock:
    """An exclusive flock on `<task_dir>/.lock`: one process at a time owns a task's state."""

    def __init__(self, task_dir: str, lock_name: str = LOCK_FILE) -> None:
        self.task_dir = task_dir
        self.lock_name = lock_name
        self._file: IO[str] | None = None

    def try_lock(self) -> bool:
        """True when this process now holds the lock (non-blocking)."""
        if self._file is not None:
            return True
        os.makedirs(self.task_dir, exist_ok=True)
        f = open(os.path.join(self.task_dir, self.lock_name), "a+", encoding="utf-8")
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return False
        self._file = f
        return True

    def unlock(self) -> None:
        f, self._file = self._file, None
        if f is not None:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
            finally:
                f.close()

    @property
    def locked(self) -> bool:
        return self._file is not None


PROCESS_FILE = "kafka-streams-process-metadata"


def claim_process_id(app_dir: str) -> tuple[str, TaskDirLock | None]:
    """The process id kept in `<state.dir>/<app>/kafka-streams-process-metadata` (Kafka's JSON file), so a
    restarted instance reuses its transactional.id and fences its own crashed predecessor at once. When another
    live process holds the directory (instances sharing state.dir) a fresh random id is used instead."""
    import json
    import uuid

    lock = TaskDirLock(app_dir, lock_name=".process-metadata.lock")
    if not lock.try_lock():
        return str(uuid.uuid4()), None
    path = os.path.join(app_dir, PROCESS_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            process_id = str(json.load(f)["processId"])
    except (OSError, ValueError, KeyError, TypeError):
        process_id = str(uuid.uuid4())
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"processId": process_id}, f)
        os.replace(tmp, path)
    return process_id, lock
