"""StreamThread: one consumer, one producer and the active tasks assigned to them (Kafka's StreamThread).

Loop: consume a batch, hand each partition's records to its task, process every task until its buffers are empty,
punctuate, and every commit.interval.ms commit: task commits (caches flushed -> changelog records produced),
producer flush, then the consumed offsets (at_least_once) or the transaction with the offsets (exactly_once_v2).

Assignment, pystreams.assignor=streams (docs/adr/0004-streams-assignor.md): the thread is one member of the group
through pystreams.runtime.group (Kafka Streams' assignor: co-partitioned tasks, sticky, state-aware, standbys,
cooperative); the consumer never subscribes, it is assign()ed what each rebalance adds at the committed offsets,
and only revoked or lost tasks are closed (runtime/group/thread_rebalance.py). A new stateful task is RESTORING
first (runtime/restore.py): each loop iteration restores a bounded batch of its changelogs while the running tasks
keep processing and the member keeps polling; it runs, its partitions assigned at the committed offsets read before
the restore, once its stores reached the changelog end offsets. pystreams.assignor=librdkafka: the
consumer subscribes with the `range` assignor (the same partition numbers of every co-partitioned topic, so a task
is whole on one instance) or cooperative-sticky; tasks are created and restored in on_assign, closed on revocation.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from pystreams.processor.internals import StreamsException
from pystreams.processor.task_id import TaskId
from pystreams.runtime.checkpoint import delete_checkpoint
from pystreams.runtime.collector import KafkaRecordCollector, ProductionError
from pystreams.runtime.group.errors import GroupError, RebalanceInProgressError
from pystreams.runtime.group.thread_rebalance import assign, poll_group
from pystreams.runtime.processing import hand_over, process_tasks
from pystreams.runtime.restore import ChangelogReader, RestoringTask
from pystreams.runtime.tasks import (
    ActiveTask,
    checkpoint_task,
    close_task,
    create_task,
    restore_tasks,
)
from pystreams.runtime.topics import TopologyPlan
from pystreams.state.internals.cache import ThreadCache

if TYPE_CHECKING:
    from pystreams.runtime.kafka_streams import KafkaStreams

log = logging.getLogger("pystreams.runtime")

#: What a lost task or a broken transaction surfaces as: a client error, or a ProductionError (or another
#: StreamsException whose cause chain holds one) raised through the processors.
_CLIENT_ERRORS = (KafkaException, StreamsException, GroupError)  # GroupError: our membership (fenced commit)


class ThreadMetrics:
    """Counters the summary line and metrics() read (Kafka's thread-level metric meanings)."""

    def __init__(self) -> None:
        self.processed = 0
        self.commits = 0
        self.restored = 0
        self.restore_total = 0
        self.polls = 0
        self.lag = 0
        self.last_commit_ms = 0.0
        self.started = time.monotonic()
        self.process_ms = 0.0  # wall time inside task.process(), for process-latency-avg
        self.process_latency_max_ms = 0.0  # per-record average of the slowest batch
        self.restore_rate = 0.0


def _log_purge_failure(future: Any) -> None:
    if future.exception() is not None:
        log.debug("purging a repartition topic failed: %s", future.exception())


class StreamThread(threading.Thread):
    """Runs tasks for one KafkaStreams client; errors go to the client's uncaught-exception handling."""

    def __init__(self, streams: KafkaStreams, index: int) -> None:
        super().__init__(name=f"{streams.client_id}-StreamThread-{index}", daemon=True)
        self.streams = streams
        self.index = index
        self.config = streams.config
        plan = streams.plan
        assert plan is not None, "KafkaStreams.start() plans the topology before starting threads"
        self.plan: TopologyPlan = plan
        self.topology = streams.topology
        self.eos = self.config.eos
        self.tasks: dict[TaskId, ActiveTask] = {}
        self.by_partition: dict[tuple[str, int], ActiveTask] = {}
        self.metrics = ThreadMetrics()
        self.running = True
        self.assigned_once = False
        self.rebalancing = False
        self.error: BaseException | None = None
        self._consumer: Consumer | None = None
        self._restore_consumer: Consumer | None = None
        self._collector: KafkaRecordCollector | None = None
        self._cache = ThreadCache(int(self.config.get("statestore.cache.max.bytes")))
        self._in_transaction = False
        self._restore_started = time.monotonic()
        self._standby: Any = None
        self._restorer: ChangelogReader | None = None  # pystreams.assignor=streams: restores between polls
        self._group: Any = None  # StreamsMember when pystreams.assignor=streams (our own group membership)
        self._last_purge = time.monotonic()
        self._rejoin_pending = False  # tasks were dropped inside a rebalance callback: rejoin from the loop
        self.cooperative = False  # set from the consumer's partition.assignment.strategy when it is created
        if self.config.assignor == "streams":
            # the Streams assignor places standbys and warm-up replicas per member, for any num.stream.threads
            from pystreams.runtime.standby import StandbyManager

            self._standby = StandbyManager(self)
        else:
            self.request_rejoin = None  # type: ignore[assignment]  # librdkafka's assignor carries no request
            if self.config.num_standby_replicas > 0:
                if self.config.num_stream_threads == 1:
                    from pystreams.runtime.standby import StandbyManager

                    self._standby = StandbyManager(self)
                else:
                    log.warning("num.standby.replicas needs num.stream.threads=1 with pystreams.assignor=librdkafka: "
                                "no standbys")

    # ------------------------------------------------------------------ lifecycle
    def shutdown(self) -> None:
        """Ask the loop to stop; it commits and closes cleanly (run() returns afterwards)."""
        self.running = False

    def request_rejoin(self) -> None:
        """Rejoin the group at the next poll (to send a changed SubscriptionInfo, e.g. a shutdown request)."""
        if self._group is not None:
            self._group.request_rejoin("requested by the client")

    def run(self) -> None:
        clean = False
        try:
            self._open_clients()
            self._loop()
            clean = True
        except BaseException as e:  # noqa: BLE001 - handed to the client's exception handler
            self.error = e
            log.error("stream thread %s failed: %s", self.name, e, exc_info=True)
        finally:
            self._close(clean)
        if self.error is not None:
            self.streams._thread_failed(self, self.error)

    def _open_clients(self) -> None:
        cfg = self.config
        client = f"{self.name}"
        transactional_id = f"{cfg.application_id}-{self.streams.process_id}-{self.index}" if self.eos else None
        self._collector = KafkaRecordCollector(cfg.producer_config(f"{client}-producer", transactional_id))
        if self.eos:
            self._collector.producer.init_transactions(60)
        self._restore_consumer = Consumer(cfg.restore_consumer_config(f"{client}-restore-consumer"))
        if cfg.assignor == "streams":  # docs/adr/0004: we run the group; the consumer is only assign()ed
            from pystreams.runtime.group.streams_member import StreamsMember

            self.cooperative = True
            self._consumer = Consumer(cfg.main_consumer_config(f"{client}-consumer"))
            self._restorer = ChangelogReader(self._restore_consumer, self.eos, self._restore_progress)
            self._group = StreamsMember(self)
            return
        # application.server rides in the client.id: librdkafka cannot send Streams' subscription user data
        server = f"@{cfg.application_server}" if cfg.application_server else ""
        consumer_config = cfg.main_consumer_config(f"{client}-consumer{server}")
        self.cooperative = consumer_config["partition.assignment.strategy"] == "cooperative-sticky"
        self._consumer = Consumer(consumer_config)
        self._consumer.subscribe(self.plan.subscription(), on_assign=self._on_assign, on_revoke=self._on_revoke,
                                 on_lost=self._on_lost)

    # ------------------------------------------------------------------ rebalance callbacks
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.rebalancing = True
        self.streams._thread_rebalancing()
        wanted: dict[TaskId, list[tuple[str, int]]] = {}
        for tp in partitions:
            sub = self.plan.subtopology_of(tp.topic)
            if sub is None:
                continue
            wanted.setdefault(TaskId(sub.id, tp.partition), []).append((tp.topic, tp.partition))
        created = []
        assert self._collector is not None and self._restore_consumer is not None
        if self._standby is not None and self._group is None:  # (our membership calls standby.assign() first)
            self._standby.update(set(wanted) | set(self.tasks))  # standbys becoming active hand over their dirs
        restorer = self._restorer
        for task_id in sorted(wanted):
            if restorer is not None and task_id in restorer:
                continue  # still restoring: it runs (and gets its partitions) once restored
            sub = next(s for s in self.plan.subtopologies if s.id == task_id.subtopology)
            at = self.tasks.get(task_id)
            if at is None:
                at = create_task(self.topology, task_id, sub, self.streams.app_configs, self._collector,
                                 self.config.state_dir, self.config.application_id, self.eos, self._cache,
                                 self.streams.global_state.stores if self.streams.global_state else None)
                if restorer is not None and not restorer.add(at, sorted(wanted[task_id])):
                    continue  # RESTORING: restored between polls (_restore_step)
                self.tasks[task_id] = at
                created.append(at)
            for topic_partition in wanted[task_id]:
                self.by_partition[topic_partition] = at
        if restorer is not None:  # nothing to restore for these: they run now
            if self.eos:
                for at in created:
                    delete_checkpoint(at.task_dir)
            created = []
        if created:
            started = self._restore_started = time.monotonic()
            restored = restore_tasks(created, self._restore_consumer, self.eos, self._restore_progress)
            self.metrics.restored += restored
            if restored:
                log.info("%s restored %d records for %s in %.1f s", self.name, restored,
                         [str(t.id) for t in created], time.monotonic() - started)
            if self.eos:
                for at in created:  # from now on the local state runs ahead of what is committed
                    delete_checkpoint(at.task_dir)
        log.info("%s assigned %d partitions, tasks %s%s", self.name, len(partitions),
                 sorted(str(t) for t in self.tasks),
                 f", restoring {sorted(str(t) for t in restorer.restoring)}" if restorer else "")
        self.assigned_once = True
        if not restorer:
            self.rebalancing = False
            self.streams._thread_running()

    def _defer_assignment(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """Of the added partitions (at their committed offsets), those to assign now; a restoring task's are kept
        with their offsets and assigned when it runs (Kafka: a RESTORING task's input partitions stay paused)."""
        restorer = self._restorer
        if not restorer:
            return partitions
        now = []
        for tp in partitions:
            rt = restorer.owner_of((tp.topic, tp.partition))
            if rt is None:
                now.append(tp)
            else:
                rt.offsets[(tp.topic, tp.partition)] = tp.offset
        return now

    def _restore_step(self) -> None:
        """One bounded round of restoring (RESTORING tasks) between polls; restored tasks start RUNNING at the
        offsets read before their restore. A short time budget while other tasks run, so they keep processing."""
        restorer, consumer = self._restorer, self._consumer
        assert restorer is not None and consumer is not None
        deadline = time.monotonic() + (0.05 if self.tasks else 0.25)
        ready: list[RestoringTask] = []
        while restorer:
            restored, done = restorer.restore(self.config.max_poll_records, max(0.0, deadline - time.monotonic()))
            self.metrics.restored += restored
            ready.extend(done)
            if time.monotonic() >= deadline:
                break
        if not ready:
            return
        start: list[TopicPartition] = []
        for rt in ready:
            at = rt.at
            self.tasks[at.id] = at
            for tp in rt.partitions:
                self.by_partition[tp] = at
            start.extend(TopicPartition(t, p, o) for (t, p), o in sorted(rt.offsets.items()))
            if self.eos:  # from now on the local state runs ahead of what is committed
                delete_checkpoint(at.task_dir)
            log.info("%s task %s restored %d records in %.1f s: running", self.name, at.id, at.restored_records,
                     time.monotonic() - restorer.started)
        if start:
            assign(self, start)
        if not restorer:
            self.rebalancing = False
            self.streams._thread_running()

    def _restore_progress(self, done: int, total: int) -> None:
        started = self._restorer.started if self._restorer is not None else self._restore_started
        self.metrics.restore_total = total
        self.metrics.restore_rate = done / max(time.monotonic() - started, 1e-6)
        self.streams._restore_progress(self, done, total)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Commit, then close the tasks of the revoked partitions (eager: all of them; cooperative: only those);
        their state stays on disk with a checkpoint."""
        self.rebalancing = True
        self.streams._thread_rebalancing()
        if self._restorer:  # restoring tasks close at once: nothing of theirs to commit
            gone = {(tp.topic, tp.partition) for tp in partitions}
            self._close_restoring(True, {t for t, rt in self._restorer.restoring.items()
                                         if not self.cooperative or gone & set(rt.partitions)})
        if not self.tasks:
            return
        revoked = None
        if self.cooperative:
            revoked = {at.id for tp in partitions if (at := self.by_partition.get((tp.topic, tp.partition)))}
            if not revoked:
                return
        try:
            self._commit(final=True)
        except _CLIENT_ERRORS as e:
            if not self._is_task_migration(e):
                raise
            err = self._error_of(e)
            log.warning("%s: commit on revocation failed (%s): closing tasks without committing", self.name, err)
            self._drop_uncommitted(err)
            # cooperative: the partitions kept stay assigned but their tasks are gone; rejoining resumes them
            # from the committed offsets (not from inside this callback)
            self._rejoin_pending = self.cooperative
            return
        self._close_tasks(clean=True, only=revoked)
        if self.eos:  # the final commit checkpointed every task; those kept run ahead of what is committed again
            for at in self.tasks.values():
                delete_checkpoint(at.task_dir)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Partitions lost (session timeout): another member may own them already; close without committing."""
        log.warning("%s: partitions lost (this member was dropped from the group): closing %d tasks without "
                    "committing", self.name, len(self.tasks))
        self.rebalancing = True
        self._drop_uncommitted(None)

    # ------------------------------------------------------------------ main loop
    def _loop(self) -> None:
        last_commit = [time.monotonic()]
        while self.running:
            try:
                self._iteration(last_commit)
            except _CLIENT_ERRORS as e:
                if not self._is_task_migration(e):
                    raise
                self._raise_refused_record()
                self._handle_task_migration(e)

    def _raise_refused_record(self) -> None:
        """A transaction also turns abortable when the broker refuses one of its records (too large, invalid):
        that failure is the cause, and like Kafka's default production handler it stops the thread instead of
        being retried forever. Delivery reports are served first so it is known."""
        collector = self._collector
        if collector is None:
            return
        try:
            collector.poll()
        except Exception:  # noqa: BLE001 - a broken producer is handled by the migration path
            return
        err = collector.error
        # a broker's answer about the record itself (MSG_SIZE_TOO_LARGE, INVALID_RECORD, ...): not a local error
        # such as _MSG_TIMED_OUT (a paused or partitioned instance), which aborting and retrying can cure
        if (err is not None and not err.name().startswith("_") and not err.retriable()
                and err.name() not in self._MIGRATION_CODES and not err.fatal()):
            collector.check()

    def _iteration(self, last_commit: list[float]) -> None:
        """One poll: consume a batch, process every task's buffered records, punctuate, maybe commit."""
        consumer, cfg = self._consumer, self.config
        assert consumer is not None
        if self._rejoin_pending:
            self._rejoin_pending = False
            self._rejoin_group()
        if self._group is not None:
            poll_group(self)
        # while tasks restore, do not wait for input: the restore step is the wait
        messages = consumer.consume(num_messages=cfg.max_poll_records,
                                    timeout=0 if self._restorer else cfg.poll_ms / 1000.0)
        self.metrics.polls += 1
        if messages:
            hand_over(messages, self.by_partition)
        if self._restorer:
            self._restore_step()
        if self.eos and not self._in_transaction and self.tasks:
            # after consume(): its rebalance callbacks may have committed (ending the transaction) or created the
            # first tasks, and a transactional producer refuses records outside a transaction (_STATE).
            # Local in librdkafka until something is produced; empty ones commit for free.
            self._begin()
        collector = self._collector  # after consume(): a callback may have replaced a fenced producer
        assert collector is not None
        process_tasks(self.tasks.values(), self.metrics, last_commit)
        if self._standby is not None:
            self._standby.poll()
        collector.poll()
        collector.check()
        now = time.monotonic()
        if now - last_commit[0] >= cfg.commit_interval_ms / 1000.0 and self.tasks:
            self._commit()
            last_commit[0] = now

    # ------------------------------------------------------------------ task migration (fencing)
    _MIGRATION_CODES = frozenset({
        "ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID", "REBALANCE_IN_PROGRESS", "FENCED_INSTANCE_ID", "PRODUCER_FENCED",
        "INVALID_PRODUCER_EPOCH", "_FENCED", "INVALID_PRODUCER_ID_MAPPING", "_STATE", "INVALID_TXN_STATE", "_FATAL",
        "TRANSACTION_ABORTABLE"})
    _TXN_TIMEOUT_CODES = frozenset({"_MSG_TIMED_OUT", "_TIMED_OUT"})
    #: errors after which the producer cannot be used again: a new one (same transactional.id) replaces it
    _FATAL_CODES = frozenset({"_FATAL", "_FENCED", "PRODUCER_FENCED", "FENCED_INSTANCE_ID"})

    def _error_of(self, e: BaseException) -> KafkaError | None:
        """The KafkaError behind e: its own, a ProductionError's, or one found along the __cause__ chain (a
        StreamsException wrapping a client error raised inside a processor or punctuator)."""
        seen: set[int] = set()
        cur: BaseException | None = e
        while cur is not None and id(cur) not in seen:
            seen.add(id(cur))
            if isinstance(cur, KafkaException) and cur.args and isinstance(cur.args[0], KafkaError):
                return cur.args[0]
            if isinstance(cur, ProductionError):
                if cur.kafka_error is not None:
                    return cur.kafka_error
                if self._collector is not None and self._collector.error is not None:
                    return self._collector.error
            cur = cur.__cause__  # `raise ... from e` only: an error raised while handling another is its own
        return None

    def _is_task_migration(self, e: BaseException) -> bool:
        """Kafka's TaskMigratedException (this member lost its tasks: new generation, fenced producer) or, under
        EOS, TaskCorruptedException (the transaction must be aborted): both end in _handle_task_migration."""
        if isinstance(e, GroupError):  # our membership: fenced (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, ...); another
            # instance with our group.instance.id (FENCED_INSTANCE_ID) is fatal, as for Kafka's consumer
            return e.name in self._MIGRATION_CODES and e.name != "FENCED_INSTANCE_ID"
        err = self._error_of(e)
        if err is None:
            return False
        if err.name() in self._MIGRATION_CODES:
            return True
        # under EOS a record that timed out in the producer only fails its transaction (Kafka: TaskCorrupted)
        return self.eos and (err.txn_requires_abort() or err.fatal() or err.name() in self._TXN_TIMEOUT_CODES)

    def _handle_task_migration(self, e: BaseException) -> None:
        """Like Kafka: drop the uncommitted work (abort, close tasks dirty: under EOS their state is wiped and
        restored from the changelog on reassignment), get a fresh producer if this one is unusable, and rejoin
        the group, which resumes every partition from its committed offset."""
        err = self._error_of(e)
        log.warning("%s: tasks migrated (%s): aborting uncommitted work and rejoining the group", self.name, err)
        self.streams._thread_rebalancing()
        self._drop_uncommitted(err)
        self._rejoin_group()

    def _rejoin_group(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        if self._group is not None:  # every task was closed dirty: give the partitions up, rejoin (handleLostAll)
            consumer.unassign()
            self._group.member.drop_partitions("tasks were closed without committing")
            return
        consumer.unsubscribe()
        consumer.subscribe(self.plan.subscription(), on_assign=self._on_assign, on_revoke=self._on_revoke,
                           on_lost=self._on_lost)

    def _drop_uncommitted(self, err: KafkaError | None) -> None:
        """Abort the open transaction and close every task dirty; a producer that is fenced, fatally failed, or
        cannot abort is replaced (Kafka's StreamsProducer.resetProducer), so the next transaction can begin."""
        unusable = err is not None and (err.fatal() or err.name() in self._FATAL_CODES)
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
            self._replace_producer()

    def _replace_producer(self) -> None:
        old = self._collector
        cfg = self.config
        transactional_id = f"{cfg.application_id}-{self.streams.process_id}-{self.index}" if self.eos else None
        if old is not None:
            try:
                old.producer.purge()
            except Exception as e:  # noqa: BLE001 - the broken producer is dropped either way
                log.debug("%s: purging the replaced producer: %s", self.name, e)
        self._collector = KafkaRecordCollector(cfg.producer_config(f"{self.name}-producer", transactional_id))
        if self.eos:  # fences the old producer's epoch, aborting whatever it left open
            self._collector.producer.init_transactions(60)
        if old is not None:
            try:
                old.close(1)
            except Exception as e:  # noqa: BLE001 - the broken producer is gone either way
                log.debug("%s: closing the replaced producer: %s", self.name, e)

    # ------------------------------------------------------------------ commit
    def _begin(self) -> None:
        assert self._collector is not None
        self._collector.producer.begin_transaction()
        self._in_transaction = True

    def _commit(self, final: bool = False) -> None:
        """Task commits, producer flush, offsets (in the transaction under EOS), checkpoints (at_least_once)."""
        consumer, collector = self._consumer, self._collector
        assert consumer is not None and collector is not None
        started = time.monotonic()
        if self.eos and not self._in_transaction:
            self._begin()
        offsets: list[TopicPartition] = []
        changed: list[ActiveTask] = []
        for at in self.tasks.values():
            at.task.commit()
            task_offsets = at.task.committable_offsets()
            if task_offsets != at.committed_offsets or at.task.metrics.processed != at.committed_processed:
                changed.append(at)
                offsets.extend(TopicPartition(t, p, o) for (t, p), o in task_offsets.items()
                               if at.committed_offsets.get((t, p)) != o)
        if self.eos:
            if offsets:
                # our member id and generation, so the broker fences a zombie by generation (KIP-447)
                metadata = consumer.consumer_group_metadata() if self._group is None else self._group.group_metadata()
                collector.producer.send_offsets_to_transaction(offsets, metadata, 60)
            self._commit_transaction(collector)
            self._in_transaction = False
            collector.check()
        else:
            collector.flush_producer()
            if offsets and self._group is not None:
                try:  # OffsetCommit as our member and generation
                    self._group.commit({(tp.topic, tp.partition): tp.offset for tp in offsets})
                except RebalanceInProgressError as e:  # like Kafka Streams: keep the tasks, commit after the rejoin
                    log.info("%s: commit skipped (%s); it is retried after the rebalance", self.name, e)
                    return
            elif offsets:
                consumer.commit(offsets=offsets, asynchronous=False)
        for at in changed:
            at.committed_offsets = at.task.committable_offsets()
            at.committed_processed = at.task.metrics.processed
        if final or not self.eos:  # under EOS the checkpoint is written on close only, like Kafka
            for at in (self.tasks.values() if final else changed):
                checkpoint_task(at, consumer, collector, force=final, eos=self.eos)
        self.metrics.commits += 1
        self.metrics.last_commit_ms = (time.monotonic() - started) * 1000
        self._maybe_purge_repartition_topics()

    def _maybe_purge_repartition_topics(self) -> None:
        """Like Kafka: every repartition.purge.interval.ms, delete repartition records below the committed offsets
        (nobody else reads them), so repartition topics do not grow without bound. Fire and forget."""
        now = time.monotonic()
        if now - self._last_purge < self.config.repartition_purge_interval_ms / 1000.0:
            return
        self._last_purge = now
        repartition = self.plan.repartition_topics
        offsets = [TopicPartition(t, p, o) for at in self.tasks.values()
                   for (t, p), o in at.committed_offsets.items() if t in repartition and o > 0]
        admin = self.streams.admin
        if not offsets or admin is None:
            return
        try:
            for future in admin.delete_records(offsets, request_timeout=30).values():
                future.add_done_callback(_log_purge_failure)
        except Exception as e:  # noqa: BLE001 - purging is housekeeping; never fail processing for it
            log.debug("purging repartition topics failed: %s", e)

    def _commit_transaction(self, collector: KafkaRecordCollector, attempts: int = 3) -> None:
        """commit_transaction, called again on a retriable error (a timeout: librdkafka resumes the commit)."""
        for attempt in range(1, attempts + 1):
            try:
                collector.producer.commit_transaction(60)
                return
            except KafkaException as e:
                err = self._error_of(e)
                if err is None or not err.retriable() or err.txn_requires_abort() or attempt == attempts:
                    raise
                log.warning("%s: commit_transaction failed (%s); retrying", self.name, err)

    def _abort_transaction(self) -> bool:
        """Abort the open transaction (if any); False when the producer could not abort (it must be replaced)."""
        ok = True
        if self.eos and self._in_transaction and self._collector is not None:
            try:
                self._collector.producer.abort_transaction(30)
            except KafkaException as e:
                log.warning("%s: abort_transaction failed: %s", self.name, e)
                ok = False
            self._in_transaction = False
        return ok

    def _close_restoring(self, clean: bool, only: set[TaskId] | None = None) -> None:
        """Close RESTORING tasks: nothing to commit; clean under at_least_once keeps what was restored (a
        checkpoint of the restored offsets), dirty under EOS drops the checkpoint like any dirty close."""
        restorer = self._restorer
        if not restorer:
            return
        first: BaseException | None = None
        for task_id in [t for t in restorer.restoring if only is None or t in only]:
            rt = restorer.remove(task_id)
            try:
                if clean:
                    restorer.checkpoint(rt)
                close_task(rt.at, clean, self.eos)
            except BaseException as e:  # noqa: BLE001 - close every task, report the first failure
                first = first or e
            log.info("%s closed restoring task %s (%s)", self.name, task_id, "clean" if clean else "dirty")
        if first is not None and clean:
            raise first

    def _close_tasks(self, clean: bool, only: set[TaskId] | None = None) -> None:
        self._close_restoring(clean, only)
        first: BaseException | None = None
        for task_id, at in list(self.tasks.items()):
            if only is not None and task_id not in only:
                continue
            try:
                close_task(at, clean, self.eos)
            except BaseException as e:  # noqa: BLE001 - close every task, report the first failure
                first = first or e
            del self.tasks[task_id]
        for tp, at in list(self.by_partition.items()):
            if at.id not in self.tasks:
                del self.by_partition[tp]
        if first is not None and clean:
            raise first

    def _close(self, clean: bool) -> None:
        """Clean: final commit + checkpoints, leave the group. Dirty: abort, close tasks without committing."""
        try:
            if clean and self.tasks:
                self._commit(final=True)
        except BaseException as e:  # noqa: BLE001
            log.error("%s: final commit failed: %s", self.name, e)
            self.error = self.error or e
            clean = False
        if not clean:
            self._abort_transaction()
        try:
            self._close_tasks(clean)
        except BaseException as e:  # noqa: BLE001
            log.error("%s: closing tasks failed: %s", self.name, e)
        if self._standby is not None:
            self._standby.close()
        if self._group is not None:
            try:
                self._group.close(leave=True)
            except Exception as e:  # noqa: BLE001 - the session timeout removes us otherwise
                log.warning("%s: leaving the group: %s", self.name, e)
        for client in (self._consumer, self._restore_consumer):
            if client is not None:
                try:
                    client.close()
                except Exception as e:  # noqa: BLE001
                    log.warning("%s: consumer close: %s", self.name, e)
        if self._collector is not None:
            try:
                self._collector.close()
            except Exception as e:  # noqa: BLE001
                log.warning("%s: producer close: %s", self.name, e)
        # drop the clients now: librdkafka instances live (and reconnect) until the last reference goes
        self._consumer = self._restore_consumer = None
        self._collector = None

    # ------------------------------------------------------------------ introspection
    def lag(self) -> int:
        """Records behind the end of the assigned input partitions (cached watermarks, cheap)."""
        consumer = self._consumer
        if consumer is None or not self.by_partition:
            return 0
        total = 0
        try:
            tps = [TopicPartition(t, p) for t, p in self.by_partition]
            for tp in consumer.position(tps):
                _low, high = consumer.get_watermark_offsets(tp, cached=True)
                if tp.offset >= 0 and high >= 0:
                    total += max(0, high - tp.offset)
        except (KafkaException, RuntimeError):
            return self.metrics.lag
        self.metrics.lag = total
        return total
