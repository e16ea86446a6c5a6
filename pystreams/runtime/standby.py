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
"""
from __future__ import annotations

import logging
import time
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from pystreams.processor.internals import StreamTask
from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment.offset_sums import (
    register_local_task,
    unregister_local_task,
)
from pystreams.runtime.checkpoint import TaskDirLock, read_checkpoint, write_checkpoint
from pystreams.runtime.tasks import task_directory
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
        self._wanted: dict[TaskId, list[tuple[str, int]]] = {}
        self._last_checkpoint = time.monotonic()
        self._next_try = 0.0

    def assign(self, standby_tasks: dict[TaskId, list[tuple[str, int]]]) -> None:
        """The member's standbys after a rebalance: close those it lost (or that became active: their state
        dir goes to the active task), open the new ones, point the changelog consumer at them."""
        self._wanted = {t: list(tps) for t, tps in standby_tasks.items()}
        for task_id in [t for t in self.tasks if t not in self._wanted]:
            self._close_one(task_id)
        self._next_try = 0.0
        self._open_pending()
        if self.tasks:
            log.info("%s standby tasks %s", self.thread.name, sorted(str(t) for t in self.tasks))

    def running_standbys(self) -> frozenset[TaskId]:
        """The standbys this thread keeps now (its SubscriptionInfo.prev_standby)."""
        return frozenset(self.tasks)

    def _close_one(self, task_id: TaskId) -> None:
        st = self.tasks.pop(task_id)
        try:
            st.close()
        except Exception as e:  # noqa: BLE001 - the state stays on disk; the checkpoint may lag
            log.warning("%s: closing standby %s: %s", self.thread.name, task_id, e)
        self._assign_consumer()

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
        try:
            task = StreamTask(thread.topology, task_id, thread.streams.app_configs, _NoOutput(),
                              state_dir=cfg.state_dir, node_names=sub.node_names, cache=ThreadCache(0),
                              global_stores=thread.streams.global_state.stores
                              if thread.streams.global_state else None)
            task.initialize()
        except BaseException:
            lock.unlock()
            raise
        changelogs = {(topic, task_id.partition): store for store, topic in task.changelog_topics().items()
                      if getattr(task.stores.get(store), "persistent", False)}
        st = StandbyTask(task_id, task, task_dir, lock, changelogs)
        self.tasks[task_id] = st
        register_local_task(task_dir, lambda: dict(st.offsets))
        return True

    def _assign_consumer(self) -> None:
        if self.consumer is None:
            if not self.tasks:
                return
            self.consumer = Consumer({**self.thread.config.restore_consumer_config(f"{self.thread.name}-standby"),
                                      "enable.partition.eof": False})
        assignment = []
        for st in self.tasks.values():
            checkpoint = read_checkpoint(st.task_dir)
            for tp in st.changelogs:
                known = st.offsets.get(tp, checkpoint.get(tp))  # applied since the last checkpoint: go on from there
                assignment.append(TopicPartition(tp[0], tp[1], known + 1 if known is not None else OFFSET_BEGINNING))
        self.consumer.assign(assignment)

    def poll(self) -> int:
        """Apply whatever changelog records arrived (non-blocking); open standbys still waiting for their lock;
        checkpoint every few seconds."""
        if len(self.tasks) < len(self._wanted):
            self._open_pending()
        if self.consumer is None or not self.tasks:
            return 0
        batches: dict[Any, list[Any]] = {}
        for m in self.consumer.consume(num_messages=5000, timeout=0):
            err = m.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    log.warning("standby consumer: %s", err)
                continue
            batches.setdefault((m.topic(), m.partition()), []).append(
                (m.key(), m.value(), m.timestamp()[1], m.offset()))
        applied = 0
        for tp, records in batches.items():
            for st in self.tasks.values():
                store = st.changelogs.get(tp)
                if store is not None:
                    st.task.restore(store, records)
                    st.offsets[tp] = records[-1][3]
                    applied += len(records)
        self.applied += applied
        if time.monotonic() - self._last_checkpoint > CHECKPOINT_INTERVAL_S:
            self.checkpoint()
        return applied

    def checkpoint(self) -> None:
        for st in self.tasks.values():
            st.checkpoint()
        self._last_checkpoint = time.monotonic()

    def close(self) -> None:
        for task_id in list(self.tasks):
            self._close_one(task_id)
        self._wanted = {}
        if self.consumer is not None:
            self.consumer.close()
            self.consumer = None
