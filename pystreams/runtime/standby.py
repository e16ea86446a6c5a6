"""Standby replicas (num.standby.replicas >= 1): warm copies of tasks another instance runs, kept current from
their changelogs, so a task that moves here restores only the tail since the standby's last checkpoint.

Choice and limits: librdkafka's assignor cannot place standbys, so after each assignment every instance reads the
group's members and assignments (AdminClient.describe_consumer_groups) and keeps the standbys that
pystreams/runtime/standby_placement.py's deterministic rule gives it: num.standby.replicas per stateful task (at most
instances - 1), on instances other than the owner, spread in ring order. Until the group is described (Stable) an
instance keeps the standbys it had minus those that became active. Needs one stream thread and a state.dir of its
own (a task dir locked by another process is skipped). Only committed changelog data is applied under
exactly_once_v2 (read_committed).
"""
from __future__ import annotations

import logging
import time
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from pystreams.processor.internals import StreamTask
from pystreams.processor.task_id import TaskId
from pystreams.runtime.checkpoint import TaskDirLock, read_checkpoint, write_checkpoint
from pystreams.runtime.standby_placement import owners_from_group, place_standbys
from pystreams.runtime.tasks import task_directory
from pystreams.state.internals.cache import ThreadCache

log = logging.getLogger("pystreams.runtime")


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
        self.offsets: dict[tuple[str, int], int] = {}

    def checkpoint(self) -> None:
        if self.offsets:
            write_checkpoint(self.task_dir, {**read_checkpoint(self.task_dir), **self.offsets})

    def close(self) -> None:
        try:
            self.checkpoint()
            self.task.close()
        finally:
            self.lock.unlock()


class StandbyManager:
    """The standby tasks of one stream thread and the consumer that feeds them."""

    def __init__(self, thread: Any) -> None:
        self.thread = thread
        self.tasks: dict[TaskId, StandbyTask] = {}
        self.consumer: Consumer | None = None
        self.applied = 0
        self._last_checkpoint = time.monotonic()
        self._active: set[TaskId] = set()
        self._pending = False
        self._next_try = 0.0

    def _stateful_tasks(self) -> dict[TaskId, Any]:
        return {TaskId(sub.id, p): sub for sub in self.thread.plan.subtopologies if sub.changelogs
                for p in range(sub.partitions)}

    def update(self, active: set[TaskId]) -> None:
        """After an assignment: drop standbys that became active now; the placement follows in poll() once the
        group's assignment can be described."""
        for task_id in [t for t in self.tasks if t in active]:
            self.tasks.pop(task_id).close()
        self._active = set(active)
        self._pending = True
        self._next_try = 0.0
        if self.consumer is not None:
            self._assign()

    def desired(self) -> set[TaskId] | None:
        """The standbys this instance should keep per the group's current assignment (None: not Stable yet)."""
        admin = self.thread.streams.admin
        if admin is None:
            return None
        stateful = self._stateful_tasks()
        plan = self.thread.plan

        def task_of(topic: str, partition: int) -> TaskId | None:
            sub = plan.subtopology_of(topic)
            task_id = TaskId(sub.id, partition) if sub is not None else None
            return task_id if task_id in stateful else None

        group = self.thread.config.application_id
        try:
            description = admin.describe_consumer_groups([group], request_timeout=5)[group].result(timeout=5)
        except Exception as e:  # noqa: BLE001 - retried on the next poll
            log.debug("describing group %s for standby placement failed: %s", group, e)
            return None
        found = owners_from_group(description, task_of)
        if found is None:
            return None
        owners, instances = found
        me = self.thread.streams.client_id
        mine = place_standbys(owners, [*instances, me], self.thread.config.num_standby_replicas).get(me, set())
        return {t for t in mine if t not in self._active}

    def _refresh(self) -> None:
        now = time.monotonic()
        if now < self._next_try:
            return
        self._next_try = now + 0.5
        wanted = self.desired()
        if wanted is None:
            return
        self._pending = False
        for task_id in [t for t in self.tasks if t not in wanted]:
            self.tasks.pop(task_id).close()
        stateful = self._stateful_tasks()
        for task_id in sorted(wanted - set(self.tasks)):
            self._open(task_id, stateful[task_id])
        log.info("%s standby tasks %s", self.thread.name, sorted(str(t) for t in self.tasks))
        self._assign()

    def _open(self, task_id: TaskId, sub: Any) -> None:
        thread, cfg = self.thread, self.thread.config
        task_dir = task_directory(cfg.state_dir, cfg.application_id, task_id)
        lock = TaskDirLock(task_dir)
        if not lock.try_lock():
            return  # another process runs or keeps this task in the same state.dir
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
        self.tasks[task_id] = StandbyTask(task_id, task, task_dir, lock, changelogs)

    def _assign(self) -> None:
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
        """Apply whatever changelog records arrived (non-blocking); checkpoint every few seconds."""
        if self._pending:
            self._refresh()
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
        if time.monotonic() - self._last_checkpoint > 5:
            self.checkpoint()
        return applied

    def checkpoint(self) -> None:
        for st in self.tasks.values():
            st.checkpoint()
        self._last_checkpoint = time.monotonic()

    def close(self) -> None:
        for st in self.tasks.values():
            try:
                st.close()
            except Exception as e:  # noqa: BLE001
                log.warning("closing standby %s: %s", st.id, e)
        self.tasks.clear()
        if self.consumer is not None:
            self.consumer.close()
            self.consumer = None
