"""What local state a client has, for its SubscriptionInfo: per task, the sum over its changelog partitions of
the next offset its stores reflect (`.checkpoint` offset + 1, so end offset sum - offset sum = records to
restore), read from the Kafka-format `.checkpoint` files under <state.dir>/<application.id>/<task>/.

Task dirs locked by another process are skipped (that process reports them). Standbys this process keeps hold
their dir locks too; they register here so their live offsets (ahead of the last checkpoint) are reported.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable

from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment.info import LATEST_OFFSET
from pystreams.runtime.checkpoint import CheckpointError, TaskDirLock, read_checkpoint

OffsetsFn = Callable[[], dict[tuple[str, int], int]]
_held: dict[str, OffsetsFn] = {}  # task dir held by this process -> its live changelog offsets
_held_lock = threading.Lock()


def register_local_task(task_dir: str, offsets: OffsetsFn) -> None:
    """A task dir this process holds (a standby): report it from `offsets()` merged over its checkpoint."""
    with _held_lock:
        _held[os.path.abspath(task_dir)] = offsets


def unregister_local_task(task_dir: str) -> None:
    with _held_lock:
        _held.pop(os.path.abspath(task_dir), None)


def _sum(offsets: dict[tuple[str, int], int]) -> int:
    return sum(o + 1 for o in offsets.values() if o >= 0)


def task_offset_sums(state_dir: str, application_id: str, running: Iterable[TaskId]) -> dict[TaskId, int]:
    """TaskId -> offset sum for every task with local state; the tasks in `running` get LATEST_OFFSET."""
    out = {t: LATEST_OFFSET for t in running}
    app_dir = os.path.join(state_dir, application_id)
    try:
        entries = sorted(os.listdir(app_dir))
    except FileNotFoundError:
        return out
    for name in entries:
        task_dir = os.path.join(app_dir, name)
        try:
            task = TaskId.parse(name)
        except ValueError:
            continue  # kafka-streams-process-metadata, global state, ...
        if task in out or not os.path.isdir(task_dir):
            continue
        with _held_lock:
            live = _held.get(os.path.abspath(task_dir))
        try:
            if live is not None:
                offsets = {**read_checkpoint(task_dir), **live()}
            else:
                lock = TaskDirLock(task_dir)
                if not lock.try_lock():
                    continue  # another process (or another thread's task) holds it
                try:
                    offsets = read_checkpoint(task_dir)
                finally:
                    lock.unlock()
        except CheckpointError:
            continue  # unreadable: this client restores the task from scratch
        if offsets:
            out[task] = _sum(offsets)
    return out
