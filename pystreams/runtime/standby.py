"""Standby replicas: warm copies of tasks another client runs, kept current from their changelogs, so a task that
moves here restores only the tail since the standby's last applied offset (Kafka's StandbyTask).

Driven by the assignment (pystreams/runtime/assignment): after every rebalance the stream thread hands its
StandbyManager the member's standby tasks (`assign`), before it creates or closes active tasks, so a standby that
becomes active here closes first and hands its state directory (with a fresh .checkpoint) to the active task. One
manager per stream thread, for any num.stream.threads. A task dir that cannot be locked yet (its active task on
this thread is still closing, or another process holds it) is retried on later polls. Warm-up replicas (the
assignor's state-aware moves) are standbys too. Only persistent stores are kept (an in-memory copy would not
survive the hand-over); under exactly_once_v2 only committed changelog data is applied (read_committed).
Live offsets are registered with the assignor's task_offset_sums, so the client reports how warm each standby is.

A standby whose changelog position becomes invalid (Kafka: InvalidOffsetException on the restore consumer while
updating standbys -> TaskCorruptedException for the standby): the consumer runs with auto.offset.reset=error
(restore.restore_consumer_config), so a position outside the changelog (past the end of a re-created changelog, a
checkpoint below the log start after DeleteRecords or retention) is reported as _AUTO_OFFSET_RESET and the
consumer does not move; the older inferences stay as a second line (the consumer going back, or its log start
moving past the next offset to apply). The standby's state is then wiped and
rebuilt from the beginning of its changelogs (Kafka wipes only under EOS; wiping always drops keys the changelog
no longer has).

The client's StandbyUpdateListener (KIP-988, KafkaStreams.set_standby_update_listener) is called as Kafka's
StoreChangelogReader calls it: on_update_start when a standby's changelog partition is first assigned to the
consumer (its starting offset: after the checkpoint, else the log start), on_batch_loaded per partition and batch
(the last offset applied, the batch's size, and Kafka's current end offset: that offset plus the consumer's lag),
on_update_suspended when the standby stops: PROMOTED when the new assignment makes it this thread's active task
(before that task's on_restore_start), MIGRATED when it is closed otherwise (moved away, or the client closes).
A wiped standby (corruption) gets on_update_start again. A listener that raises fails the stream thread, as in
Kafka; while the thread closes its standbys, a failing on_update_suspended is logged instead.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)

from pystreams.processor.internals import StreamTask
from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment.offset_sums import (
    register_local_task,
    unregister_local_task,
)
from pystreams.runtime.changelog_offsets import (
    OUT_OF_RANGE,
    log_start,
    restore_consumer_config,
)
from pystreams.runtime.checkpoint import (
    TaskDirLock,
    known_offset,
    read_checkpoint,
    write_checkpoint,
)
from pystreams.runtime.restore_listeners import (
    NO_STANDBY_LISTENER,
    DelegatingStandbyUpdateListener,
    SuspendReason,
)
from pystreams.runtime.tasks import reopen_wiped, task_directory
from pystreams.runtime.watermarks import watermarks
from pystreams.state.internals.cache import ThreadCache

log = logging.getLogger("pystreams.runtime")

CHECKPOINT_INTERVAL_S = 5.0
RETRY_INTERVAL_S = 0.5


class _NoOutput:
    def send(self, *args: Any) -> None:  # standbys never process, so never send
        raise AssertionError("a standby task does not produce")

    def flush(self) -> None:
        pass

    def partitions_for(self, topic: str) -> int | None:
        return None


class StandbyTask:
    """Stores of one task opened read-write for changelog application only."""

    def __init__(self, task_id: TaskId, task: StreamTask, task_dir: str, lock: TaskDirLock,
                 changelogs: dict[tuple[str, int], str]) -> None:
        self.id = task_id
        self.task = task
        self.task_dir = task_dir
        self.lock = lock
        self.changelogs = changelogs  # (topic, partition) -> store
        self.offsets: dict[tuple[str, int], int] = {}  # last applied changelog offset per partition
        self.expected: dict[tuple[str, int], int] = {}  # next offset the consumer should hand out, when known
        self.new_task: Any = None  # builds a fresh, initialized StreamTask (after a wipe)
        self.started: set[tuple[str, int]] = set()  # changelog partitions given to on_update_start
        self.end_offsets: dict[tuple[str, int], int] = {}  # the last current end offset told on_batch_loaded
        self.updated = 0  # changelog records applied: Kafka's update-total of a standby task (task_metrics.py)

    def wipe(self) -> None:
        """Close the stores, delete the state (stores and checkpoint; the lock stays held), open them empty."""
        self.task = reopen_wiped(self.task, self.task_dir, self.new_task, f"standby {self.id}")
        self.offsets.clear()
        self.expected.clear()
        self.started.clear()

    def checkpoint(self) -> None:
        if self.offsets:
            write_checkpoint(self.task_dir, {**read_checkpoint(self.task_dir), **self.offsets})

    def close(self) -> None:
        try:
            self.checkpoint()
            self.task.close()
        finally:
            unregister_local_task(self.task_dir)
            self.lock.unlock()


class StandbyManager:
    """The standby tasks of one stream thread and the consumer that feeds them."""

    def __init__(self, thread: Any) -> None:
        self.thread = thread
        self.tasks: dict[TaskId, StandbyTask] = {}
        self.consumer: Consumer | None = None
        self.applied = 0
        self.corrupted = 0  # standbys wiped because their changelog position became invalid
        self._wanted: dict[TaskId, list[tuple[str, int]]] = {}
        self._last_checkpoint = time.monotonic()
        self._next_try = 0.0
        listener = getattr(getattr(thread, "streams", None), "_standby_listener", None)
        self.listener: DelegatingStandbyUpdateListener = (
            listener if isinstance(listener, DelegatingStandbyUpdateListener) else NO_STANDBY_LISTENER)
        self._active: frozenset[TaskId] = frozenset()  # the member's active tasks in the newest assignment

    def note_active_tasks(self, active_tasks: Any) -> None:
        """The member's active tasks of the assignment about to be applied (KafkaStreams._on_assignment): a
        standby among them is PROMOTED, not MIGRATED, when assign() closes it."""
        self._active = frozenset(active_tasks)

    def assign(self, standby_tasks: dict[TaskId, list[tuple[str, int]]]) -> None:
        """The member's standbys after a rebalance: close those it lost (or that became active: their state
        dir goes to the active task), open the new ones, point the changelog consumer at them."""
        self._wanted = {t: list(tps) for t, tps in standby_tasks.items()}
        for task_id in [t for t in self.tasks if t not in self._wanted]:
            self._close_one(task_id, SuspendReason.PROMOTED if task_id in self._active else SuspendReason.MIGRATED)
        self._next_try = 0.0
        self._open_pending()
        if self.tasks:
            log.info("%s standby tasks %s", self.thread.name, sorted(str(t) for t in self.tasks))

    def running_standbys(self) -> frozenset[TaskId]:
        """The standbys this thread keeps now (its SubscriptionInfo.prev_standby)."""
        return frozenset(self.tasks)

    def _close_one(self, task_id: TaskId, reason: SuspendReason, closing: bool = False) -> None:
        """Close a standby, take its partitions from the consumer, then tell the listener (after the close, as
        Kafka does for MIGRATED; PROMOTED comes before the active task's restore starts). closing: the thread
        closes, a failing listener is logged."""
        st = self.tasks.pop(task_id)
        try:
            st.close()
        except Exception as e:  # noqa: BLE001 - the state stays on disk; the checkpoint may lag
            log.warning("%s: closing standby %s: %s", self.thread.name, task_id, e)
        if not closing:
            self._assign_consumer()
        if not self.listener:
            return
        checkpoint = read_checkpoint(st.task_dir)
        for tp in sorted(st.started):
            store_offset = st.offsets.get(tp, known_offset(checkpoint.get(tp)))
            try:
                self.listener.on_update_suspended(tp, st.changelogs[tp], -1 if store_offset is None else store_offset,
                                                  st.end_offsets.get(tp, -1), reason)
            except Exception as e:
                if not closing:
                    raise
                log.error("%s: standby update listener failed while standby %s closed: %s", self.thread.name,
                          task_id, e)

    def _open_pending(self) -> None:
        now = time.monotonic()
        pending = [t for t in sorted(self._wanted) if t not in self.tasks]
        if not pending or now < self._next_try:
            return
        self._next_try = now + RETRY_INTERVAL_S
        subs = {sub.id: sub for sub in self.thread.plan.subtopologies}
        opened = False
        for task_id in pending:
            sub = subs.get(task_id.subtopology)
            if sub is None:
                log.warning("%s: standby %s is not a task of this topology; ignored", self.thread.name, task_id)
                self._wanted.pop(task_id)
                continue
            opened = self._open(task_id, sub) or opened
        if opened:
            self._assign_consumer()

    def _open(self, task_id: TaskId, sub: Any) -> bool:
        thread, cfg = self.thread, self.thread.config
        task_dir = task_directory(cfg.state_dir, cfg.application_id, task_id)
        lock = TaskDirLock(task_dir)
        if not lock.try_lock():
            return False  # its active task is still closing here, or another process holds it: retried later

        def new_task() -> StreamTask:
            task = StreamTask(thread.topology, task_id, thread.streams.app_configs, _NoOutput(),
                              state_dir=cfg.state_dir, node_names=sub.node_names, cache=ThreadCache(0),
                              global_stores=thread.streams.global_state.stores
                              if thread.streams.global_state else None)
            task.initialize()
            return task

        try:
            task = new_task()
        except BaseException:
            lock.unlock()
            raise
        changelogs = {(topic, task_id.partition): store for store, topic in task.changelog_topics().items()
                      if getattr(task.stores.get(store), "persistent", False)}
        st = StandbyTask(task_id, task, task_dir, lock, changelogs)
        st.new_task = new_task
        self.tasks[task_id] = st
        register_local_task(task_dir, lambda: dict(st.offsets))
        return True

    def _assign_consumer(self) -> None:
        if self.consumer is None:
            if not self.tasks:
                return
            self.consumer = Consumer({**restore_consumer_config(self.thread.config, f"{self.thread.name}-standby"),
                                      "enable.partition.eof": False})
        assignment = []
        starts: list[tuple[StandbyTask, tuple[str, int], int | None]] = []
        for st in self.tasks.values():
            checkpoint = read_checkpoint(st.task_dir)
            for tp in st.changelogs:
                # applied since the last checkpoint: go on from there
                known = st.offsets.get(tp, known_offset(checkpoint.get(tp)))
                assignment.append(TopicPartition(tp[0], tp[1], known + 1 if known is not None else OFFSET_BEGINNING))
                if known is not None:
                    st.expected[tp] = known + 1
                else:
                    st.expected.pop(tp, None)
                if tp not in st.started:
                    st.started.add(tp)
                    starts.append((st, tp, known))
        self.consumer.assign(assignment)
        if self.listener:
            for st, tp, known in starts:  # Kafka: the consumer's position, i.e. the log start without a checkpoint
                start = known + 1 if known is not None else self._log_start(tp)
                self.listener.on_update_start(tp, st.changelogs[tp], start)

    def _log_start(self, tp: tuple[str, int]) -> int:
        assert self.consumer is not None
        try:
            return watermarks(self.consumer, TopicPartition(*tp), timeout=5.0)[0]
        except KafkaException:
            return 0

    def poll(self) -> int:
        """Apply whatever changelog records arrived (non-blocking); open standbys still waiting for their lock;
        checkpoint every few seconds."""
        if len(self.tasks) < len(self._wanted):
            self._open_pending()
        if self.consumer is None or not self.tasks:
            return 0
        owners = {tp: st for st in self.tasks.values() for tp in st.changelogs}
        batches: dict[Any, list[Any]] = {}
        jumps: dict[tuple[str, int], list[tuple[int, int]]] = {}  # (expected, got) where offsets jumped
        corrupted: dict[TaskId, str] = {}
        for m in self.consumer.consume(num_messages=5000, timeout=0):
            err = m.error()
            tp = (str(m.topic()), int(m.partition() or 0))
            if err is not None:
                st = owners.get(tp)
                if st is not None and err.code() in OUT_OF_RANGE:  # auto.offset.reset=error: exact, no guessing
                    corrupted.setdefault(st.id, f"changelog {tp[0]}-{tp[1]}: {err}")
                elif err.code() != KafkaError._PARTITION_EOF:
                    log.warning("standby consumer: %s", err)
                continue
            st = owners.get(tp)
            if st is None or st.id in corrupted:
                continue
            offset = int(m.offset() or 0)
            want = st.expected.get(tp)
            if want is not None and offset < want:  # the consumer went back: its position was out of range
                corrupted[st.id] = (f"changelog {tp[0]}-{tp[1]} went back from offset {want} to {offset} (its "
                                    "position was out of range and reset)")
                continue
            if want is not None and offset > want:  # compaction, markers, or records deleted under us: see below
                jumps.setdefault(tp, []).append((want, offset))
            st.expected[tp] = offset + 1
            batches.setdefault(tp, []).append((m.key(), m.value(), m.timestamp()[1], offset))
        for tp, tp_jumps in jumps.items():  # records deleted before they were applied (DeleteRecords, retention)?
            st = owners[tp]
            if st.id not in corrupted:
                low = log_start(self.consumer, tp)
                # a reset to the log start lands on it (or on the first record after it): the jump skipped it
                skipped = next((w for w, got in tp_jumps if low is not None and w < low <= got), None)
                if skipped is not None:
                    corrupted[st.id] = f"changelog {tp[0]}-{tp[1]} starts at {low} now, past offset {skipped} to apply"
        if corrupted:
            self._wipe(corrupted)
            batches = {tp: records for tp, records in batches.items() if owners[tp].id not in corrupted}
        applied = 0
        for tp, records in batches.items():
            st = owners[tp]
            st.task.restore(st.changelogs[tp], records)
            st.offsets[tp] = records[-1][3]
            st.updated += len(records)
            applied += len(records)
        self.applied += applied
        if self.listener and batches:
            self._batches_loaded(owners, batches)
        if time.monotonic() - self._last_checkpoint > CHECKPOINT_INTERVAL_S:
            self.checkpoint()
        return applied

    def _batches_loaded(self, owners: dict[tuple[str, int], StandbyTask], batches: dict[Any, list[Any]]) -> None:
        """on_batch_loaded per partition: current end offset = last offset applied + the consumer's lag (end offset
        - position), as Kafka's ProcessorStateManager computes it; -1 when the end is not known yet."""
        assert self.consumer is not None
        positions = {(p.topic, p.partition): p.offset
                     for p in self.consumer.position([TopicPartition(*tp) for tp in batches])}
        for tp, records in batches.items():
            st, last = owners[tp], records[-1][3]
            try:
                _low, high = self.consumer.get_watermark_offsets(TopicPartition(*tp), timeout=1.0, cached=True)
            except KafkaException:
                high = None
            position = positions.get(tp, -1)
            end = last + max(0, int(high) - position) if high is not None and high >= 0 and position >= 0 else -1
            st.end_offsets[tp] = end
            self.listener.on_batch_loaded(tp, st.changelogs[tp], st.id, last, len(records), end)

    def _wipe(self, corrupted: dict[TaskId, str]) -> None:
        """Kafka's corrupted standby: wipe its state and follow its changelogs again from the beginning."""
        for task_id, why in sorted(corrupted.items()):
            log.warning("%s: standby task %s is corrupted (%s: the changelog was truncated, or deleted and "
                        "re-created): its state is wiped and rebuilt from the beginning of its changelogs",
                        self.thread.name, task_id, why)
            self.tasks[task_id].wipe()
            self.corrupted += 1
        self._assign_consumer()

    def checkpoint(self) -> None:
        for st in self.tasks.values():
            st.checkpoint()
        self._last_checkpoint = time.monotonic()

    def close(self) -> None:
        """The thread closes: every standby closes (on_update_suspended MIGRATED; a failing listener is logged)."""
        for task_id in list(self.tasks):
            self._close_one(task_id, SuspendReason.MIGRATED, closing=True)
        self._wanted = {}
        if self.consumer is not None:
            self.consumer.close()
            self.consumer = None
