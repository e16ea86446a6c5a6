"""Active tasks of a stream thread: creation (lock, wipe under EOS, open stores, partition times from the committed
offsets' metadata), changelog restore, checkpoint, clean and dirty close. One task per (sub-topology, partition),
named `<sub>_<partition>` like Kafka."""
from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, TopicPartition

from pystreams.errors import StateStoreError
from pystreams.processor.internals import StreamTask
from pystreams.processor.task_id import TaskId
from pystreams.runtime.checkpoint import (
    LOCK_FILE,
    OFFSET_UNKNOWN,
    TaskDirLock,
    delete_checkpoint,
    read_checkpoint,
    write_checkpoint,
)
from pystreams.runtime.group.thread_rebalance import assign, unassign
from pystreams.runtime.topics import SubtopologyPlan
from pystreams.runtime.watermarks import watermarks

log = logging.getLogger("pystreams.runtime")


class TaskLockedError(StateStoreError):
    """Another process still holds the task's state directory (it has not closed the task yet)."""


class ActiveTask:
    """A StreamTask plus what the runtime keeps about it: its directory, lock and changelog partitions."""

    def __init__(self, task_id: TaskId, sub: SubtopologyPlan, task: StreamTask, task_dir: str,
                 lock: TaskDirLock) -> None:
        self.id = task_id
        self.sub = sub
        self.task = task
        self.task_dir = task_dir
        self.lock = lock
        self.restored_records = 0
        self.collector: Any = None  # the thread's record collector (counts acknowledged changelog sends)
        # changelog partition -> next offset this task writes (its end offset at restore + acknowledged sends)
        self.changelog_next: dict[tuple[str, int], int] = {}
        # changelog partition -> offset in the last .checkpoint written (-1: none)
        self.checkpointed: dict[tuple[str, int], int] = {}
        self.committed_offsets: dict[tuple[str, int], int] = {}
        self.committed_processed = 0
        # input partition -> the committed offset's metadata (Kafka Streams' TopicPartitionMetadata) it started from
        self.committed_metadata: dict[tuple[str, int], str] = {}
        self.persistent_changelogs: dict[tuple[str, int], str] = {}
        # Kafka's task deadlineMs: set (monotonic seconds, now + task.timeout.ms) when a commit of this task's
        # offsets timed out, cleared when one succeeds (thread_commit.py)
        self.timeout_deadline: float | None = None
        # builds a fresh, initialized StreamTask for this task (set by create_task): revive() after a wipe
        self.new_task: Any = None
        for store, topic in task.changelog_topics().items():
            if getattr(task.stores.get(store), "persistent", False):
                self.persistent_changelogs[(topic, task_id.partition)] = store

    def initialize_partition_times(self, metadata: Mapping[tuple[str, int], str]) -> None:
        """Kafka's StreamTask.initializeTaskTimeAndProcessorMetadata: each input partition's time (and the task's
        stream time) resumes from its committed metadata, so a restart or a hand-over (also from a Java app) keeps
        task time instead of starting it from the first record again. Kept for a revived (wiped) task."""
        self.committed_metadata = dict(metadata)
        if self.committed_metadata:
            self.task.initialize_partition_times(self.committed_metadata)
            log.debug("task %s: partition times from the committed metadata: %s", self.id,
                      {tp: self.task.partition_time(*tp) for tp in sorted(self.committed_metadata)})

    def changelog_partitions(self) -> dict[tuple[str, int], str]:
        """(changelog topic, partition) -> store, for every logged store of this task."""
        return {(topic, self.id.partition): store for store, topic in self.task.changelog_topics().items()}

    def wipe_and_revive(self) -> None:
        """Kafka's TaskCorruptedException handling for a task that has not processed yet (RESTORING): close its
        stores, delete its state (stores and checkpoint; the lock stays held) and open them again empty, so the
        restore starts from the changelog's beginning. Kafka wipes only under EOS (under at_least_once it replays
        the whole changelog over the old store); wiping always leaves no key the changelog no longer has."""
        if self.new_task is None:
            raise StateStoreError(f"task {self.id} cannot be revived: it was not made by create_task")
        self.task = reopen_wiped(self.task, self.task_dir, self.new_task, f"task {self.id}")
        self.changelog_next.clear()
        self.checkpointed.clear()
        if self.committed_metadata:  # the input partitions' times do not live in the state that was wiped
            self.task.initialize_partition_times(self.committed_metadata)


def task_directory(state_dir: str, application_id: str, task_id: TaskId) -> str:
    return os.path.join(state_dir, application_id, str(task_id))


def reopen_wiped(task: StreamTask, task_dir: str, new_task: Any, label: str) -> StreamTask:
    """A corrupted task's (or standby's) stores closed (a failure is only logged: the state is deleted next), its
    state deleted with the lock kept, and new_task() - the same task opened again, empty."""
    try:
        task.close()
    except Exception as e:  # noqa: BLE001 - its state is deleted next anyway
        log.warning("%s: closing its corrupted stores: %s", label, e)
    wipe_task_dir(task_dir)
    return new_task()


def wipe_task_dir(task_dir: str) -> None:
    """Delete a task's state (stores, checkpoint) but keep its lock file (we hold the lock)."""
    if not os.path.isdir(task_dir):
        return
    for entry in os.listdir(task_dir):
        if entry == LOCK_FILE:
            continue
        path = os.path.join(task_dir, entry)
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)


def read_committed_metadata(group: Any, partitions: Sequence[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The committed offsets' metadata of `partitions` (metadata_of), read with our group client's OffsetFetch: not
    confluent-kafka's Consumer.committed(), whose metadata librdkafka reads as a C string past its end
    (librdkafka#4649), so it can carry heap bytes."""
    if not partitions:
        return {}
    return metadata_of(group.committed_with_metadata(sorted(set(partitions))))


def metadata_of(fetched: Mapping[tuple[str, int], tuple[int, str]]) -> dict[tuple[str, int], str]:
    """Of OffsetFetch's (offset, metadata) per partition, the metadata of those with an offset and metadata, for
    create_task(metadata=...). One trailing NUL is dropped: metadata committed through confluent-kafka-python's own
    send_offsets_to_transaction (pystreams' exactly_once_v2 before txn_offsets.py) carries the C string's
    terminator (metadata_size = strlen + 1); Kafka Streams' metadata is base64 text, never ending with NUL."""
    return {tp: md.removesuffix("\x00") for tp, (offset, md) in fetched.items()
            if offset >= 0 and md and md != "\x00"}


def _input_partitions(sub: SubtopologyPlan, task_id: TaskId, counts: Mapping[str, int] | None
                      ) -> list[tuple[str, int]]:
    """The task's input partitions: its sub-topology's source topics (and those its patterns match) that have a
    partition numbered like the task (Kafka's partition grouper), by the plan's partition counts when known."""
    partition = task_id.partition
    if counts is None:
        return [(topic, partition) for topic in sub.source_topics]
    return sorted((topic, partition) for topic, n in counts.items() if n > partition and (
        topic in sub.source_topics or any(pattern.fullmatch(topic) for pattern in sub.source_patterns)))


def _stream_thread() -> Any:
    """The stream thread making the task, None elsewhere (tests, tools): tasks are created on their stream thread,
    in its rebalance callbacks, and its group member (runtime/group StreamsMember) reads the committed offsets."""
    thread = threading.current_thread()
    group = getattr(thread, "_group", None)
    return thread if callable(getattr(group, "committed_with_metadata", None)) else None


def create_task(topology: Any, task_id: TaskId, sub: SubtopologyPlan, configs: dict[str, Any], collector: Any,
                state_dir: str, application_id: str, eos: bool, cache: Any,
                global_stores: dict[str, Any] | None = None, lock_timeout: float = 30.0,
                metadata: Mapping[tuple[str, int], str] | None = None) -> ActiveTask:
    """Lock the task dir (waiting for a previous owner to let go), wipe it under EOS without a checkpoint,
    open the task's stores and processors, and start its partition times from the committed offsets' metadata
    (`metadata`: what the rebalance's one OffsetFetch for all added partitions read, TaskManager._create_tasks; None,
    e.g. a task revived after a send failure: read now through the creating stream thread's group member, one
    OffsetFetch for this task's input partitions, as Kafka's StreamTask reads its committed OffsetAndMetadata)."""
    task_dir = task_directory(state_dir, application_id, task_id)
    lock = TaskDirLock(task_dir)
    deadline = time.monotonic() + lock_timeout
    while not lock.try_lock():
        if time.monotonic() > deadline:
            raise TaskLockedError(f"state directory {task_dir} of task {task_id} is locked by another process "
                                  f"for more than {lock_timeout:.0f} s: two instances share state.dir and the "
                                  "other one still owns the task")
        time.sleep(0.1)

    def new_task() -> StreamTask:
        task = StreamTask(topology, task_id, configs, collector, state_dir=state_dir, node_names=sub.node_names,
                          cache=cache, global_stores=global_stores)
        task.initialize()
        return task

    try:
        if metadata is None:
            thread = _stream_thread()
            counts = getattr(getattr(thread, "plan", None), "topic_partitions", None)
            metadata = {} if thread is None else read_committed_metadata(
                thread._group, _input_partitions(sub, task_id, counts))
        if eos and not read_checkpoint(task_dir):
            wipe_task_dir(task_dir)  # an unclean stop under EOS: the local state may hold uncommitted writes
        task = new_task()
    except BaseException:
        lock.unlock()
        raise
    at = ActiveTask(task_id, sub, task, task_dir, lock)
    at.collector = collector
    at.new_task = new_task
    at.initialize_partition_times(metadata)
    return at


#: Kafka's StreamTask.OFFSET_DELTA_THRESHOLD_FOR_CHECKPOINT: while running, a task writes its .checkpoint only
#: when its changelog offsets moved by at least this many records since the last one (and always at close).
OFFSET_DELTA_THRESHOLD_FOR_CHECKPOINT = 10_000


def checkpoint_task(at: ActiveTask, consumer: Consumer, collector: Any = None, *, force: bool = True,
                    eos: bool = False) -> dict[tuple[str, int], int] | None:
    """After the producer flushed: advance the task's changelog end offsets by the acknowledged sends, and write
    `.checkpoint` (and the offsets RocksDB keeps) when forced (close, revocation) or past the offset-delta
    threshold. Returns the offsets written, None when not due.

    Under exactly_once_v2 (checkpoints at close only) and for partitions whose end offset is unknown, the end
    offset comes from the broker (transaction markers take offsets too, so counting sends would be wrong)."""
    offsets: dict[tuple[str, int], int] = {}
    for tp in at.persistent_changelogs:
        acked = collector.take_acked(*tp) if collector is not None else 0
        nxt = at.changelog_next.get(tp)
        if eos or nxt is None:
            _low, nxt = watermarks(consumer, TopicPartition(*tp))
        else:
            nxt += acked
        at.changelog_next[tp] = nxt
        offsets[tp] = nxt - 1
    if not force:
        delta = sum(abs(o - at.checkpointed.get(tp, -1)) for tp, o in offsets.items())
        if delta < OFFSET_DELTA_THRESHOLD_FOR_CHECKPOINT:
            return None
    # an empty changelog: the store reflects no offset (Kafka writes OFFSET_UNKNOWN, restored from the beginning)
    write_checkpoint(at.task_dir, {tp: o if o >= 0 else OFFSET_UNKNOWN for tp, o in offsets.items()})
    at.task.checkpoint({store: offsets[tp] for tp, store in at.persistent_changelogs.items() if offsets[tp] >= 0})
    at.checkpointed.update(offsets)
    return offsets


def close_task(at: ActiveTask, clean: bool, eos: bool) -> None:
    """Close processors and stores and release the lock; a dirty close under EOS drops the checkpoint."""
    try:
        at.task.close()
    finally:
        if not clean and eos:
            delete_checkpoint(at.task_dir)
        at.lock.unlock()


def revive_corrupted(thread: Any) -> None:
    """Kafka's TaskCorruptedException under at_least_once (production.exception.handler answered RETRY), in place
    on the stream thread, without a rebalance: close its tasks dirty (no commit, no checkpoint), forget the kept
    send failure, and create the tasks again: their stores restore from the changelogs (RESTORING first when
    there is something to restore) and their input partitions are assigned at the last committed offsets, so the
    records whose output may be lost are processed again.

    Every active task of the thread is revived, not only the sender's: one producer serves them all and, once a
    failure is kept, later delivery reports (other tasks' records) are not looked at, so no task's uncommitted
    output is known to be written. RESTORING tasks have produced nothing and stay as they are."""
    consumer, collector = thread._consumer, thread._collector
    partitions = sorted(thread.by_partition)
    collector.poll()  # delivery reports of the failed sends: ignored while the failure is kept
    collector.clear_error()
    thread._close_tasks(clean=False, only=set(thread.tasks))
    unassign(consumer, partitions)
    if not partitions:
        return
    committed = thread._group.committed(partitions)
    earliest = str(thread.config.get("auto.offset.reset")).lower() in ("earliest", "smallest", "beginning")
    reset = OFFSET_BEGINNING if earliest else OFFSET_END
    wanted: dict[TaskId, list[tuple[str, int]]] = {}
    for tp in partitions:
        sub = thread.plan.subtopology_of(tp[0])
        if sub is not None:
            wanted.setdefault(TaskId(sub.id, tp[1]), []).append(tp)
    thread._create_tasks(wanted)
    starts = thread._defer_assignment([TopicPartition(t, p, committed[(t, p)] if committed.get((t, p), -1) >= 0
                                                      else reset) for t, p in partitions])
    if starts:
        assign(thread, starts)
