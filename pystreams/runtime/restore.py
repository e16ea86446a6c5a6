"""Changelog restore between polls (Kafka's StoreChangelogReader / state updater): tasks in RESTORING state.

A new active task is registered here after create_task() (dir locked, wiped under EOS without a checkpoint, stores
open). The stream thread calls restore() once per loop iteration: one bounded batch of changelog records goes
into the restoring tasks' stores, while its running tasks keep processing and its group member keeps polling. A
task is ready (to be moved to RUNNING, its input partitions assigned at the committed offsets read before the
restore) once every changelog partition reached the end offset read when it was registered.

Never silently stuck (Kafka's StoreChangelogReader and task.timeout.ms): progress is logged every 10 s; "reached"
means the restore consumer's position is at or past the end offset, which also covers a changelog whose last
offsets are a transaction marker or aborted records (read_committed skips them: librdkafka's position and its
partition EOF land past them, measured on both brokers); a changelog that makes no progress for a while has its
end re-read (truncated or re-created: it ends lower now), and one that makes none for task.timeout.ms raises
StateStoreError naming the partition, its position and end, and the last consumer error.

A changelog that no longer matches the local state (Kafka's TaskCorruptedException from the restore consumer's
InvalidOffsetException): a checkpoint outside the changelog's range at registration (below its log start after
DeleteRecords or retention, past its end after it was deleted and re-created), or, while restoring, the consumer
going back (its position was out of range and reset), an end below what was already restored, or a log start past
the next offset to restore. The task's state is then wiped and it restores from the beginning of its changelogs,
without leaving the thread's RESTORING bookkeeping (its input start offsets stay). Kafka wipes only under EOS and
replays the whole changelog over the old store under at_least_once; wiping always leaves no key that the
changelog no longer has.

The restore consumer should run with auto.offset.reset=error (changelog_offsets.restore_consumer_config; Kafka
Streams forces "none"): an out-of-range position then arrives as an _AUTO_OFFSET_RESET message error and the consumer stays put,
so corruption is seen exactly (test_restore_offset_reset.py, both brokers); the inferences above (going back,
the log start past the next offset, the end below what was restored) remain for a consumer with "earliest".

The client's StateRestoreListener (KafkaStreams.set_global_state_restore_listener) is called where Kafka's
StoreChangelogReader calls it: on_restore_start for every changelog partition of a registered task (also one with
nothing to restore: start == end, then on_restore_end with 0 at once), on_batch_restored per changelog partition
and batch (the offset of the last record restored, the batch's count), on_restore_end when a changelog partition
reaches its end, on_restore_suspended for a partition still restoring when its task is removed (revoked, closed)
or found corrupted (then on_restore_start again from the beginning). A listener that raises fails the thread
(restore_listeners.py); while the thread closes, a failing on_restore_suspended is logged instead, so every task
still closes."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException, TopicPartition

from pystreams.errors import StateStoreError
from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment.offset_sums import (
    register_local_task,
    unregister_local_task,
)
from pystreams.runtime.changelog_offsets import (
    OUT_OF_RANGE,
    describe_invalid,
    global_consumer_config,
    invalid_checkpoints,
    log_start,
    restore_consumer_config,
)
from pystreams.runtime.checkpoint import known_offset, read_checkpoint, write_checkpoint
from pystreams.runtime.restore_listeners import (
    NO_RESTORE_LISTENER,
    DelegatingStateRestoreListener,
)
from pystreams.runtime.tasks import ActiveTask
from pystreams.runtime.watermarks import watermarks

log = logging.getLogger("pystreams.runtime")

# the consumer configs and OUT_OF_RANGE live in changelog_offsets.py; stream_thread.py and tests import them here
__all__ = ["DEFAULT_STALL_TIMEOUT_S", "OUT_OF_RANGE", "RESTORE_LOG_INTERVAL_S", "ChangelogReader", "RestoringTask",
           "global_consumer_config", "restore_consumer_config"]

Partition = tuple[str, int]

#: Kafka Streams' StoreChangelogReader.RESTORE_LOG_INTERVAL_MS
RESTORE_LOG_INTERVAL_S = 10.0
#: Kafka Streams' task.timeout.ms default: how long a changelog may make no progress before the restore fails
DEFAULT_STALL_TIMEOUT_S = 300.0
class _Changelog:
    """One changelog partition being restored: its store, the end offset to reach, the last offset restored."""

    __slots__ = ("checked_at", "completed", "end", "error", "fetched", "position", "progress_at", "restored", "seen",
                 "store", "task")

    def __init__(self, task: ActiveTask, store: str, end: int, position: int, now: float) -> None:
        self.task = task
        self.store = store
        self.end = end  # end offset read at registration: restored when the consumer's position reaches it
        self.position = position  # next offset to restore
        self.fetched = position  # next offset the consumer hands out (records and its position; not ends or EOFs)
        self.seen = position  # the position at the last progress check
        self.restored = 0  # records restored into the store (Kafka's totalRestored)
        self.progress_at = now  # when the position last moved
        self.checked_at = now  # when the end offset was last re-read for lack of progress
        self.error = ""  # the last consumer error for this partition (said when the restore gives up)
        self.completed = False  # reached its end: on_restore_end was called (no on_restore_suspended then)


class RestoringTask:
    """A task whose stores are not yet at their changelog end offsets, and what it needs to start running."""

    def __init__(self, at: ActiveTask, partitions: list[Partition]) -> None:
        self.at = at
        self.partitions = partitions  # its input partitions
        self.offsets: dict[Partition, int] = {}  # input partition -> start offset (read BEFORE the restore, ADR 0004)
        self.changelogs: dict[Partition, _Changelog] = {}
        self.restored_from: dict[Partition, int] = {}  # changelog partition -> checkpointed offset (-1: none)
        self.suspended = False  # on_restore_suspended was called for it (a failing listener must not be asked twice)

    def restored_offsets(self) -> dict[Partition, int]:
        """Changelog partition -> offset of the last record in the stores (for a checkpoint / offset sums)."""
        out = dict(self.restored_from)
        for tp, cl in self.changelogs.items():
            out[tp] = cl.position - 1
        return {tp: o for tp, o in out.items() if o >= 0}


class ChangelogReader:
    """Restores registered tasks with one assign-only consumer, a bounded batch per call (on the stream thread)."""

    def __init__(self, consumer: Any, eos: bool, progress: Callable[[int, int], None] | None = None,
                 stall_timeout_s: float = DEFAULT_STALL_TIMEOUT_S, clock: Callable[[], float] = time.monotonic,
                 listener: DelegatingStateRestoreListener | None = None,
                 closing: Callable[[], bool] | None = None) -> None:
        self.consumer = consumer
        self.eos = eos
        self._progress = progress
        # the client's restore listener, and whether the owning thread is closing (a failing on_restore_suspended
        # is then logged, not raised); by default both from the stream thread whose _restore_progress `progress`
        # is (stream_thread.py builds the reader with that callback only)
        thread = getattr(progress, "__self__", None)
        if listener is None:
            listener = getattr(getattr(thread, "streams", None), "_global_restore_listener", None)
        self.listener: DelegatingStateRestoreListener = (
            listener if isinstance(listener, DelegatingStateRestoreListener) else NO_RESTORE_LISTENER)
        if closing is None and thread is not None:
            def closing() -> bool:
                return not getattr(thread, "running", True) or getattr(thread, "error", None) is not None
        self._closing = closing or (lambda: False)
        self.stall_timeout_s = stall_timeout_s
        # no progress for this long: re-read the end offset (the changelog may have been truncated)
        self.recheck_s = min(30.0, stall_timeout_s / 4)
        self._clock = clock
        self._logged_at = clock()
        self.restoring: dict[TaskId, RestoringTask] = {}
        self._by_changelog: dict[Partition, _Changelog] = {}
        self.corrupted = 0  # tasks whose state was wiped because their changelog no longer matched it
        self._ready_now: list[RestoringTask] = []  # revived after corruption with nothing to restore
        self.done = 0  # records restored since restoring last started from idle (progress reporting)
        self.total = 0  # records to restore since then
        self.started = time.monotonic()

    def __bool__(self) -> bool:
        return bool(self.restoring)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self.restoring

    # ------------------------------------------------------------------ registration
    def add(self, at: ActiveTask, partitions: list[Partition]) -> bool:
        """Register a created task; True when it has nothing to restore (it can run at once). A checkpoint the
        changelog no longer covers (below its log start after DeleteRecords or retention, past its end after it
        was deleted and re-created) marks the task corrupted: its state is wiped and restored from the beginning
        (Kafka: OFFSET_OUT_OF_RANGE on the restore consumer -> TaskCorruptedException)."""
        if not self.restoring:
            self.done = self.total = 0
            self.started = time.monotonic()
            self._logged_at = self._clock()
        rt = RestoringTask(at, partitions)
        events: list[tuple[Any, ...]] = []
        restoring = self._register(rt, trusted=True, events=events)
        try:
            self._notify(events)
        except BaseException:
            if not restoring:  # kept here, so the failing thread's close closes it (it never reached the caller)
                self.restoring[at.id] = rt
            raise
        return not restoring

    def _notify(self, events: list[tuple[Any, ...]]) -> None:
        """Call the restore listener for events gathered while the bookkeeping changed (method name, args...)."""
        if not self.listener:
            return
        for method, *args in events:
            getattr(self.listener, method)(*args)

    def _register(self, rt: RestoringTask, trusted: bool, events: list[tuple[Any, ...]]) -> bool:
        """Read the changelogs' watermarks and assign those with records to restore; True when restoring.
        trusted=False: the local state was just wiped, every changelog restores from its beginning. The
        listener's on_restore_start (and on_restore_end for a changelog with nothing to restore) go to events."""
        at = rt.at
        checkpoint: dict[Partition, int] = {}
        if trusted:
            checkpoint = read_checkpoint(at.task_dir)
            if not checkpoint and not self.eos:  # fall back to the offset RocksDB keeps with its data
                stored = at.task.checkpointed_offsets()
                checkpoint = {(topic, at.id.partition): stored[store]
                              for store, topic in at.task.changelog_topics().items() if store in stored}
        marks = {tp: watermarks(self.consumer, TopicPartition(*tp)) for tp in at.changelog_partitions()}
        if trusted:
            invalid = invalid_checkpoints(checkpoint, marks, at.persistent_changelogs)
            if invalid:
                self._wipe(at, describe_invalid(invalid))
                checkpoint = {}
        starts: list[TopicPartition] = []
        for tp, store in at.changelog_partitions().items():
            low, high = marks[tp]
            persistent = tp in at.persistent_changelogs
            known = known_offset(checkpoint.get(tp)) if persistent else None
            if persistent:
                at.changelog_next[tp] = high
                at.checkpointed[tp] = known if known is not None else -1
                forget = getattr(at.collector, "forget", None)
                if forget is not None:  # sends of an earlier owner on this thread are in `high` (or undercounted)
                    forget(*tp)
                rt.restored_from[tp] = known if known is not None else -1
            start = known + 1 if known is not None else low
            events.append(("on_restore_start", tp, store, start, high))
            if start >= high:
                events.append(("on_restore_end", tp, store, 0))
                continue
            cl = _Changelog(at, store, high, start, self._clock())
            rt.changelogs[tp] = self._by_changelog[tp] = cl
            starts.append(TopicPartition(tp[0], tp[1], start if known is not None else OFFSET_BEGINNING))
            self.total += high - start
        if not rt.changelogs:
            return False
        self.restoring[at.id] = rt
        register_local_task(at.task_dir, rt.restored_offsets)
        self.consumer.incremental_assign(starts)
        log.info("task %s restoring %d changelog partitions (%d records)", at.id, len(starts),
                 sum(cl.end - cl.position for cl in rt.changelogs.values()))
        return True

    def _wipe(self, at: ActiveTask, why: str) -> None:
        """Kafka's task corruption: the local state does not match the changelog; wipe it, restore from scratch."""
        log.warning("task %s is corrupted (%s: the changelog was truncated, or deleted and re-created): its state "
                    "is wiped and restored from the beginning of its changelogs", at.id, why)
        at.wipe_and_revive()
        at.restored_records = 0
        self.corrupted += 1

    def _corrupted(self, rt: RestoringTask, why: str) -> None:
        """A changelog went out of range while restoring (Kafka: InvalidOffsetException during restore -> the task
        is corrupted): stop restoring it, wipe its state and register it again from the beginning; its input
        start offsets (recorded by the thread) stay."""
        events: list[tuple[Any, ...]] = self._suspend_events(rt)
        self.restoring.pop(rt.at.id, None)
        self._release(rt)
        self._wipe(rt.at, why)
        fresh = RestoringTask(rt.at, rt.partitions)
        fresh.offsets = rt.offsets
        if not self._register(fresh, trusted=False, events=events):
            self._ready_now.append(fresh)  # the changelogs are empty now: nothing to restore
        try:
            self._notify(events)
        except BaseException:
            for ready in self._ready_now:  # back here, so the failing thread's close closes it
                self.restoring.setdefault(ready.at.id, ready)
            self._ready_now = []
            raise

    def _suspend_events(self, rt: RestoringTask) -> list[tuple[Any, ...]]:
        """on_restore_suspended for each changelog partition of rt that started and has not reached its end."""
        rt.suspended = True
        return [("on_restore_suspended", tp, cl.store, cl.restored) for tp, cl in rt.changelogs.items()
                if not cl.completed]

    def remove(self, task_id: TaskId) -> RestoringTask:
        """Stop restoring a task (revoked, lost or closing): its changelog partitions leave the consumer.
        on_restore_suspended first, for those still restoring: a listener that raises leaves the task registered
        (the thread fails and its close removes it again, without asking the listener twice); while the thread
        closes it is logged instead."""
        rt = self.restoring[task_id]
        if not rt.suspended:
            events = self._suspend_events(rt)
            try:
                self._notify(events)
            except Exception as e:
                if not self._closing():
                    raise
                log.error("restore listener failed while task %s closed: %s", task_id, e)
        del self.restoring[task_id]
        self._release(rt)
        return rt

    def _release(self, rt: RestoringTask) -> None:
        unregister_local_task(rt.at.task_dir)
        gone = [tp for tp in rt.changelogs if self._by_changelog.get(tp) is not None
                and self._by_changelog[tp].task is rt.at]
        for tp in gone:
            del self._by_changelog[tp]
        if gone:
            try:
                self.consumer.incremental_unassign([TopicPartition(*tp) for tp in gone])
            except Exception as e:  # noqa: BLE001 - partitions already gone: nothing to stop
                log.debug("restore consumer: unassign %s: %s", gone, e)

    def checkpoint(self, rt: RestoringTask) -> None:
        """at_least_once: write what a revoked restoring task restored, so the next owner (us, later) continues
        from there. Not under EOS (its stores may then not be trusted without a clean close: wiped instead)."""
        offsets = rt.restored_offsets()
        if self.eos or not offsets:
            return
        write_checkpoint(rt.at.task_dir, offsets)
        rt.at.task.checkpoint({store: offsets[tp] for tp, store in rt.at.persistent_changelogs.items()
                               if tp in offsets})

    # ------------------------------------------------------------------ restoring
    def restore(self, max_records: int, timeout: float) -> tuple[int, list[RestoringTask]]:
        """One restore-consumer batch of up to max_records into the stores; (records restored, tasks that
        reached their end offsets, removed from here). StateStoreError when a changelog made no progress for
        stall_timeout_s (task.timeout.ms) or the consumer hit a fatal error."""
        if not self._by_changelog:
            return 0, self._finish()
        batches: dict[Partition, list[Any]] = {}
        expected: dict[Partition, int] = {}  # next offset expected per changelog in this batch
        jumps: dict[Partition, list[tuple[int, int]]] = {}  # (expected, got) where offsets jumped forward
        corrupt: dict[TaskId, tuple[RestoringTask, str]] = {}
        for m in self.consumer.consume(num_messages=max_records, timeout=timeout):
            err = m.error()
            tp = (str(m.topic()), int(m.partition() or 0))
            cl = self._by_changelog.get(tp)
            if cl is not None and cl.task.id in corrupt:
                continue
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    if cl is not None:  # the end (under read_committed the last stable offset): restored
                        eof = m.offset()
                        if eof is not None and 0 <= eof < expected.get(tp, cl.fetched):
                            why = (f"changelog {tp[0]}-{tp[1]} now ends at {eof}, below offset "
                                   f"{expected.get(tp, cl.fetched)} already restored")
                            corrupt[cl.task.id] = (self.restoring[cl.task.id], why)
                            continue
                        self._at_log_end(tp, cl, eof)
                    continue
                if cl is not None and err.code() in OUT_OF_RANGE:
                    corrupt[cl.task.id] = (self.restoring[cl.task.id], f"changelog {tp[0]}-{tp[1]}: {err}")
                    continue
                self._consumer_error(tp, cl, err)
                continue
            if cl is None:  # a record of a partition removed meanwhile
                continue
            offset = int(m.offset() or 0)
            want = expected.get(tp, cl.fetched)
            if offset < want:  # the consumer went back: its position was out of range and was reset
                why = (f"changelog {tp[0]}-{tp[1]} went back from offset {want} to {offset} (its position was "
                       "out of range and reset)")
                corrupt[cl.task.id] = (self.restoring[cl.task.id], why)
                continue
            if offset > want:  # compaction, transaction markers, or records deleted under us: see below
                jumps.setdefault(tp, []).append((want, offset))
            expected[tp] = offset + 1
            if offset >= cl.end:  # written after the end offset read at registration: not needed to start
                continue
            batches.setdefault(tp, []).append((m.key(), m.value(), m.timestamp()[1], offset))
        for tp, tp_jumps in jumps.items():  # records deleted before we read them (DeleteRecords, retention)?
            cl = self._by_changelog[tp]
            if cl.task.id not in corrupt:
                low = log_start(self.consumer, tp)
                # a reset to the log start lands on it (or on the first record after it): the jump skipped it
                skipped = next((w for w, got in tp_jumps if low is not None and w < low <= got), None)
                if skipped is not None:
                    why = f"changelog {tp[0]}-{tp[1]} starts at {low} now, past offset {skipped} still to be restored"
                    corrupt[cl.task.id] = (self.restoring[cl.task.id], why)
        for tp, nxt in expected.items():
            cl = self._by_changelog[tp]
            cl.fetched = max(cl.fetched, nxt)
        for rt, why in corrupt.values():
            for tp in rt.changelogs:  # read before the wipe: dropped, the restore starts over
                batches.pop(tp, None)
            self._corrupted(rt, why)
        restored = 0
        events: list[tuple[Any, ...]] = []
        for tp, records in batches.items():
            cl = self._by_changelog[tp]
            cl.task.task.restore(cl.store, records)
            cl.task.restored_records += len(records)
            cl.restored += len(records)
            cl.position = max(cl.position, records[-1][3] + 1)  # (an EOF in this batch may be past them)
            restored += len(records)
            events.append(("on_batch_restored", tp, cl.store, records[-1][3], len(records)))
        pending = [tp for tp, cl in self._by_changelog.items() if cl.position < cl.end]
        if pending:  # transaction markers and compaction leave gaps: the consumer's position says where it is
            for tp_pos in self.consumer.position([TopicPartition(*tp) for tp in pending]):
                cl = self._by_changelog[(tp_pos.topic, tp_pos.partition)]
                if tp_pos.offset >= 0:
                    cl.position = max(cl.position, tp_pos.offset)
                    cl.fetched = max(cl.fetched, tp_pos.offset)
        self.done += restored
        if self._progress is not None and restored:
            self._progress(self.done, self.total)
        self._watch()
        for tp, cl in self._by_changelog.items():  # Kafka: each changelog partition ends on its own
            if not cl.completed and cl.position >= cl.end:
                cl.completed = True
                events.append(("on_restore_end", tp, cl.store, cl.restored))
        self._notify(events)
        return restored, self._finish()

    # ------------------------------------------------------------------ never silently stuck
    def _at_log_end(self, tp: Partition, cl: _Changelog, offset: int | None) -> None:
        """Partition EOF: the consumer is at the log end (the last stable offset under read_committed), past any
        transaction marker or aborted records. Below the end read at registration only if the changelog was
        truncated or re-created: what it has is restored."""
        if offset is not None and 0 <= offset < cl.end and cl.position < cl.end:
            log.warning("changelog %s-%d ends at offset %d, below the end offset %d read when its restore started "
                        "(truncated, or deleted and re-created?): restored what it has", tp[0], tp[1], offset, cl.end)
        cl.position = max(cl.position, cl.end)

    def _consumer_error(self, tp: Partition, cl: _Changelog | None, err: Any) -> None:
        """librdkafka reports transient trouble (a broker down, a leader moving) as consumer errors and retries by
        itself: log it and keep going; the stall deadline ends a restore that never recovers. Fatal: raise."""
        fatal = getattr(err, "fatal", None)
        if callable(fatal) and fatal():
            raise StateStoreError(f"restore of changelog {tp[0]}-{tp[1]} failed: {err}")
        if cl is not None:
            if not cl.error:
                log.warning("restore of changelog %s-%d: %s (retrying)", tp[0], tp[1], err)
            cl.error = str(err)
        else:
            log.info("restore consumer: %s", err)

    def _watch(self) -> None:
        """Progress bookkeeping after a batch: log progress every RESTORE_LOG_INTERVAL_S, re-read the end of a
        changelog that stopped moving, give up on one that stopped for stall_timeout_s."""
        now = self._clock()
        for cl in self._by_changelog.values():
            if cl.position != cl.seen or cl.position >= cl.end:  # records, or skipped markers / aborted records
                cl.seen = cl.position
                cl.progress_at = cl.checked_at = now
                cl.error = ""
        if now - self._logged_at >= RESTORE_LOG_INTERVAL_S:
            self._logged_at = now
            pending = sorted((tp, cl) for tp, cl in self._by_changelog.items() if cl.position < cl.end)
            if pending:
                log.info("Restoration in progress for %d partitions. %s", len(pending), " ".join(
                    f"{{{t}-{p}: position={cl.position}, end={cl.end}, totalRestored={cl.restored}}}"
                    for (t, p), cl in pending))
        for tp, cl in list(self._by_changelog.items()):
            if self._by_changelog.get(tp) is not cl:  # its task was found corrupted meanwhile: registered again
                continue
            if cl.position >= cl.end or now - cl.checked_at < self.recheck_s:
                continue
            cl.checked_at = now
            self._recheck_end(tp, cl)
            if self._by_changelog.get(tp) is cl and cl.position < cl.end and now - cl.progress_at >= self.stall_timeout_s:
                raise StateStoreError(
                    f"restore of changelog {tp[0]}-{tp[1]} (task {cl.task.id}, store {cl.store}) made no progress "
                    f"for {now - cl.progress_at:.0f} s (task.timeout.ms): position {cl.position}, end offset "
                    f"{cl.end}{', last consumer error: ' + cl.error if cl.error else ''}. Is the changelog's "
                    "leader available? Under exactly_once_v2 an open transaction holds the restore back until it "
                    "ends (transaction.timeout.ms)")

    def _recheck_end(self, tp: Partition, cl: _Changelog) -> None:
        """The end offset again, after recheck_s without progress: lower than the end read at registration means
        the changelog was truncated (records deleted, or the topic re-created): restore up to the new end."""
        try:
            low, high = watermarks(self.consumer, TopicPartition(*tp), timeout=5.0)
        except KafkaException as e:
            cl.error = cl.error or f"its end offset cannot be read: {e}"
            log.warning("restore of changelog %s-%d: no progress for %.0f s at position %d of %d, and its end "
                        "offset cannot be read: %s", tp[0], tp[1], self._clock() - cl.progress_at, cl.position,
                        cl.end, e)
            return
        log.warning("restore of changelog %s-%d: no progress for %.0f s at position %d of %d (log now %d-%d)%s",
                    tp[0], tp[1], self._clock() - cl.progress_at, cl.position, cl.end, low, high,
                    f"; last consumer error: {cl.error}" if cl.error else "")
        if high < cl.fetched:  # records we restored are gone: the store holds data the changelog no longer has
            rt = self.restoring.get(cl.task.id)
            if rt is not None:
                self._corrupted(rt, f"changelog {tp[0]}-{tp[1]} now ends at {high}, below offset {cl.fetched} "
                                    "already restored")
            return
        if high < cl.end:
            log.warning("changelog %s-%d now ends at %d, below the end offset %d read when its restore started "
                        "(truncated, or deleted and re-created?): restoring up to %d", tp[0], tp[1], high, cl.end,
                        high)
            cl.end = high
            if cl.position >= high:
                cl.position = max(cl.position, cl.end)

    def _finish(self) -> list[RestoringTask]:
        revived, self._ready_now = self._ready_now, []
        ready = [rt for rt in self.restoring.values() if all(cl.position >= cl.end for cl in rt.changelogs.values())]
        for rt in ready:
            for tp, cl in rt.changelogs.items():
                log.info("Finished restoring changelog %s-%d to store %s with a total number of %d records",
                         tp[0], tp[1], cl.store, cl.restored)
            missing = [tp for tp in rt.partitions if tp not in rt.offsets]
            if missing:  # the thread records them when it assigns the task's partitions (_defer_assignment)
                log.warning("task %s restored, but no start offsets were recorded for its input partitions %s: "
                            "they stay unassigned in the main consumer", rt.at.id, missing)
            del self.restoring[rt.at.id]
            self._release(rt)
        return revived + ready

    def owner_of(self, partition: Partition) -> RestoringTask | None:
        """The restoring task that has this input partition, if any."""
        for rt in self.restoring.values():
            if partition in rt.partitions:
                return rt
        return None
