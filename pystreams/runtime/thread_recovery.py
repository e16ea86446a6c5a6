"""The stream thread's recovery from lost work (Kafka's TaskMigratedException and TaskCorruptedException handling):
abort the open transaction, close tasks dirty, replace an unusable producer, and either rejoin the group (task
migration, and a RETRY under exactly_once_v2) or revive the tasks in place from the last committed offsets (a RETRY
from production.exception.handler under at_least_once: tasks.revive_corrupted).

A mixin of StreamThread (stream_thread.py); the loop calls it only after an error.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, KafkaError

from pystreams.processor.task_id import TaskId
from pystreams.runtime.streams_producer import (
    abandon_collector,
    open_collector,
    replace_collector,
)
from pystreams.runtime.task_migration import error_of, producer_unusable
from pystreams.runtime.tasks import ActiveTask, revive_corrupted

if TYPE_CHECKING:
    from pystreams.runtime.collector import KafkaRecordCollector
    from pystreams.runtime.kafka_streams import KafkaStreams
    from pystreams.runtime.processing import Backpressure

log = logging.getLogger("pystreams.runtime")


class ThreadRecovery:
    """Task-migration and task-corruption handling for a StreamThread (mixed into it)."""

    if TYPE_CHECKING:  # the thread's fields (stream_thread.py) and its commit/task-manager methods
        name: str
        revived: int
        streams: KafkaStreams
        config: Any
        eos: bool
        tasks: dict[TaskId, ActiveTask]
        _consumer: Consumer | None
        _collector: KafkaRecordCollector | None
        _in_transaction: bool
        _group: Any
        _backpressure: Backpressure | None

        def _transactional_id(self) -> str | None: ...
        def _abort_transaction(self) -> bool: ...
        def _close_tasks(self, clean: bool, only: set[TaskId] | None = None) -> None: ...

    def _handle_task_migration(self, e: BaseException) -> None:
        """Like Kafka: drop the uncommitted work (abort, close tasks dirty: under EOS their state is wiped and
        restored from the changelog on reassignment), get a fresh producer if this one is unusable, and rejoin
        the group, which resumes every partition from its committed offset."""
        err = error_of(e, self._collector)
        log.warning("%s: tasks migrated (%s): aborting uncommitted work and rejoining the group", self.name, err)
        self.streams._thread_rebalancing()
        self._drop_uncommitted(err)
        self._rejoin_group()

    def _retry_kept(self) -> bool:
        """Whether production.exception.handler answered RETRY to the send failure the collector keeps (under
        exactly_once_v2 it shows first as a transaction that cannot commit)."""
        retry_requested = getattr(self._collector, "retry_requested", None)
        return bool(retry_requested is not None and retry_requested())

    def _handle_task_corrupted(self, e: BaseException) -> None:
        """production.exception.handler answered RETRY to a retriable send error: Kafka's TaskCorruptedException
        (KIP-1065). Under exactly_once_v2 the open transaction cannot commit: abort, close every task dirty (state
        wiped) and rejoin, as for a task migration (Kafka also enforces a rebalance then); under at_least_once the
        tasks are revived in place from the last commit (tasks.revive_corrupted)."""
        if self.eos:
            self._handle_task_migration(e)
            return
        log.warning("%s: production.exception.handler returned RETRY (%s): tasks %s are corrupted; closing them "
                    "without committing and resuming them from their last committed offsets", self.name, e,
                    sorted(str(t) for t in self.tasks))
        revive_corrupted(self)
        self.revived += 1

    def _handle_producer_blocked(self, e: BaseException) -> None:
        """An EOS commit outlived max.block.ms (Kafka: TimeoutException -> TaskCorruptedException): the blocked
        producer is abandoned (closed from a daemon thread, never called here again), a new one with the same
        transactional.id fences it and aborts its open transaction, every task is closed dirty and the group
        rejoined, so processing resumes from the committed offsets."""
        log.warning("%s: %s; abandoning the producer, aborting the transaction through a new producer and "
                    "resuming tasks %s from their committed offsets", self.name, e, sorted(str(t) for t in self.tasks))
        self.streams._thread_rebalancing()
        old = self._collector
        if old is not None:
            old.abandoned = True  # type: ignore[attr-defined]
        self._in_transaction = False
        self._collector = None
        abandon_collector(old)
        self._collector = open_collector(self.config, f"{self.name}-producer", self._transactional_id())
        self._close_tasks(clean=False)
        self._rejoin_group()

    def _rejoin_group(self) -> None:
        """Every task was closed dirty: give the partitions up and rejoin (Kafka's handleLostAll)."""
        consumer = self._consumer
        assert consumer is not None
        if self._backpressure is not None:
            self._backpressure.forget()
        consumer.unassign()
        self._group.member.drop_partitions("tasks were closed without committing")

    def _drop_uncommitted(self, err: KafkaError | None) -> None:
        """Abort the open transaction and close every task dirty; a producer that is fenced, fatally failed, or
        cannot abort is replaced (Kafka's StreamsProducer.resetProducer), so the next transaction can begin."""
        unusable = producer_unusable(err)
        aborting = self.eos and self._in_transaction
        if not unusable:
            unusable = not self._abort_transaction()
            if aborting and not unusable and self._collector is not None:
                # the abort purged the transaction's unsent records: their failed delivery reports belong to it
                self._collector.poll()
                self._collector.error = None
        self._in_transaction = False
        self._close_tasks(clean=False)
        collector = self._collector
        if unusable or (collector is not None and collector.error is not None):
            self._collector = replace_collector(collector, self.config, f"{self.name}-producer",
                                                self._transactional_id())
