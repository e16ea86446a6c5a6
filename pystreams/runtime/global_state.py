"""Global stores (GlobalKTable / add_global_store): one global task per client, fed from every partition of the
global topics (Kafka's GlobalStreamThread). start() reads them to the end before any stream thread processes;
a background thread keeps them up to date. The input offsets are checkpointed in `<state.dir>/<app>/global/
.checkpoint` (Kafka's format) when every global store is persistent, so a restart resumes where it stopped. As in
Kafka's GlobalStateManagerImpl, a global checkpoint holds the NEXT offset to read per partition (the consumer's
position), not the last offset read as a task's changelog checkpoint does. pystreams before 2026-11-28 wrote the last
offset read; the two are the same file format, so pystreams writes an empty marker file next to it
(`.checkpoint.next-offsets`): a global checkpoint without the marker is an older pystreams' and is read as
offset + 1 (rewritten in the new form at the next checkpoint).

A global topic that no longer matches the local state (Kafka's InvalidOffsetException on the global consumer,
which runs with auto.offset.reset=error like the restore consumer): a checkpoint outside the topic's range
(DeleteRecords or retention past it, or the topic deleted and re-created), or the consumer's position going out
of range while bootstrapping. The global state is then wiped (tasks.reopen_wiped, as for a corrupted task) and
bootstrapped again from the beginning of every global partition, as Kafka's GlobalStateManagerImpl reinitializes
a global store during restore. Out of range after start() (while the background thread keeps the stores up to
date), Kafka 4.x's GlobalStreamThread wipes the global state on close and fails ("You can restart KafkaStreams
to recover from this error"): pystreams does the same (the next start bootstraps from the beginning); stream
tasks hold the global stores open, so they cannot be swapped under them.

The client's StateRestoreListener (KafkaStreams.set_global_state_restore_listener) sees the bootstrap in start()
as Kafka's GlobalStateManagerImpl reports it: per global partition on_restore_start(partition, store, the offset it
starts from, the end offset), on_batch_restored(partition, store, the consumer's position after the batch - Kafka
passes the position here, not the last offset - , records in the batch), on_restore_end(partition, store, records
read); a wipe while bootstrapping suspends (on_restore_suspended) the partitions not yet at their end and starts
them again. Updates after start() are not restores and are not reported, as in Kafka. A listener that raises fails
start()."""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from pystreams.errors import StateStoreError
from pystreams.processor.internals import StreamsException, StreamTask
from pystreams.runtime.changelog_offsets import (
    OUT_OF_RANGE,
    describe_invalid,
    global_consumer_config,
    invalid_checkpoints,
)
from pystreams.runtime.checkpoint import TaskDirLock, read_checkpoint, write_checkpoint
from pystreams.runtime.tasks import reopen_wiped, wipe_task_dir
from pystreams.runtime.watermarks import watermarks
from pystreams.state.internals.cache import ThreadCache

log = logging.getLogger("pystreams.runtime")


class _NoOutput:
    """Global processors only update their store; a send means the topology is wrong."""

    def send(self, topic: str, *args: Any) -> None:
        raise StreamsException(f"a global store processor tried to write to topic {topic}: global processors may "
                               "only update their store")

    def flush(self) -> None:
        pass

    def partitions_for(self, topic: str) -> int | None:
        return None


#: Written next to the global .checkpoint by pystreams versions that store the next offset to read (Kafka's form)
NEXT_OFFSETS_MARKER = ".checkpoint.next-offsets"


def read_global_checkpoint(task_dir: str) -> dict[tuple[str, int], int]:
    """The global checkpoint as next offsets to read (Kafka's meaning); one written by an older pystreams (no
    marker file: it held the last offset read) is converted by adding 1 to each known offset."""
    checkpoint = read_checkpoint(task_dir)
    if checkpoint and not os.path.exists(os.path.join(task_dir, NEXT_OFFSETS_MARKER)):
        log.info("global checkpoint in %s was written by an older pystreams (last offset read): resuming at the "
                 "offset after each", task_dir)
        checkpoint = {tp: o + 1 if o >= 0 else o for tp, o in checkpoint.items()}
    return checkpoint


def write_global_checkpoint(task_dir: str, offsets: dict[tuple[str, int], int]) -> None:
    """Kafka's global checkpoint: the next offset to read per partition; the marker first, so a crash between the
    two can only make a restart read one record again, never skip one."""
    os.makedirs(task_dir, exist_ok=True)
    marker = os.path.join(task_dir, NEXT_OFFSETS_MARKER)
    if not os.path.exists(marker):
        with open(marker, "w", encoding="utf-8"):
            pass
    write_checkpoint(task_dir, offsets)


class GlobalOffsetOutOfRange(StreamsException):
    """The global consumer's position is outside a global partition (Kafka's InvalidOffsetException): the local
    global state no longer matches the topic."""


class GlobalStateManager:
    """Owns the global task, its consumer and the thread that keeps the global stores current."""

    def __init__(self, streams: Any) -> None:
        self.streams = streams
        nodes = streams.topology.global_subtopology_nodes()
        self._node_names = [n for src, proc, _ in nodes for n in (src, proc)]
        self.task = self._new_task()
        self.task_dir = self.task.store_context.state_dir
        self.lock = TaskDirLock(self.task_dir)
        self.topics = sorted(self.task._source_by_topic)
        topology = streams.topology
        # global topic -> its store, for the restore listener
        self._store_of = {topology.node(src).topics[0]: store for src, _proc, store in nodes}
        self._listener = getattr(streams, "_global_restore_listener", None)
        self._counts: dict[tuple[str, int], int] = {}  # records per partition in the last _poll
        self._restoring: dict[tuple[str, int], int] = {}  # bootstrap: records read per partition not at its end
        self.consumer: Consumer | None = None
        self.records = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.name = f"{streams.client_id}-GlobalStreamThread"
        self.corrupted = 0  # times the global state was wiped because the global topics no longer matched it
        self._errors: dict[tuple[str, int], str] = {}  # the last transient consumer error said per partition
        self._wipe_on_close = False
        # next offset to read per global partition (Kafka's checkpointFileCache): the consumer's positions after
        # the bootstrap, then what the task processed; a partition without new records keeps its offset
        self._offsets: dict[tuple[str, int], int] = {}

    def _new_task(self) -> StreamTask:
        return StreamTask(self.streams.topology, "global", self.streams.app_configs, _NoOutput(),
                          state_dir=self.streams.config.state_dir, node_names=self._node_names,
                          cache=ThreadCache(0), task_dir_name="global")

    def _reopened(self) -> StreamTask:
        task = self._new_task()
        task.initialize()
        return task

    @property
    def stores(self) -> dict[str, Any]:
        return self.task.stores

    def start(self, timeout: float = 300.0) -> None:
        """Open the stores and read every global partition to its end (blocking), then keep polling."""
        if not self.lock.try_lock():
            raise StateStoreError(f"the global state directory {self.task_dir} is used by another process: give "
                                  "each instance on this machine its own state.dir")
        self.task.initialize()
        persistent = all(getattr(s, "persistent", False) for s in self.task.stores.values())
        checkpoint = read_global_checkpoint(self.task_dir) if persistent else {}
        consumer = self.consumer = Consumer(global_consumer_config(
            self.streams.config, f"{self.streams.client_id}-global-consumer"))
        metadata = consumer.list_topics(timeout=30)
        partitions: list[tuple[str, int]] = []
        for topic in self.topics:
            t = metadata.topics.get(topic)
            if t is None or t.error is not None:
                raise StateStoreError(f"global topic {topic} does not exist: create it before starting the app")
            partitions.extend((topic, p) for p in t.partitions)
        deadline = time.monotonic() + timeout
        marks = {tp: watermarks(consumer, TopicPartition(*tp)) for tp in partitions}
        invalid = invalid_checkpoints(checkpoint, marks, partitions, next_offsets=True)
        if invalid:
            self._wipe(describe_invalid(invalid, "global topic"))
            checkpoint = {}
        while True:
            try:
                self._bootstrap(partitions, checkpoint, marks, deadline, timeout)
                break
            except GlobalOffsetOutOfRange as e:  # wipe and bootstrap again from the beginning
                self._notify_suspended()
                self._wipe(str(e))
                checkpoint = {}
                marks = {tp: watermarks(consumer, TopicPartition(*tp)) for tp in partitions}
        self.task.commit()
        self._offsets = dict(checkpoint)
        for tp, position in self._positions(partitions).items():  # a partition read nothing keeps its checkpoint
            self._offsets[tp] = max(position, self._offsets.get(tp, -1))
        # Kafka names the global thread <client.id>-GlobalStreamThread (KafkaStreams constructor)
        self._thread = threading.Thread(target=self._run, daemon=True, name=self.name)
        self._thread.start()

    def _bootstrap(self, partitions: list[tuple[str, int]], checkpoint: dict[tuple[str, int], int],
                   marks: dict[tuple[str, int], tuple[int, int]], deadline: float, timeout: float) -> None:
        """Assign every global partition at its checkpoint (the next offset to read; else its beginning) and read
        up to the end offsets of `marks` ((log start, end) per partition), telling the restore listener."""
        assert self.consumer is not None
        ends = {tp: high for tp, (_low, high) in marks.items()}
        self.consumer.assign([TopicPartition(t, p, checkpoint[(t, p)] if checkpoint.get((t, p), -1) >= 0
                                             else OFFSET_BEGINNING) for t, p in partitions])
        remaining = {tp for tp, end in ends.items()
                     if end > 0 and (checkpoint.get(tp, -1) < 0 or checkpoint[tp] < end)}
        self._restoring = {tp: 0 for tp in sorted(remaining)}  # records read per partition still restoring
        if self._listener:
            for tp in sorted(ends):
                start = checkpoint[tp] if checkpoint.get(tp, -1) >= 0 else marks[tp][0]
                self._listener.on_restore_start(tp, self._store_of[tp[0]], start, ends[tp])
                if tp not in remaining:
                    self._listener.on_restore_end(tp, self._store_of[tp[0]], 0)
        while remaining:
            if time.monotonic() > deadline:
                raise StateStoreError(f"global stores did not reach the end of {sorted(remaining)} in {timeout} s")
            self._poll(0.2)
            done = [tp for tp in sorted(remaining) if self._position(tp) >= ends[tp]]
            remaining.difference_update(done)
            for tp, count in sorted(self._counts.items()):
                if tp in self._restoring:
                    self._restoring[tp] += count
                    if self._listener:
                        self._listener.on_batch_restored(tp, self._store_of[tp[0]], self._position(tp), count)
            for tp in done:
                total = self._restoring.pop(tp)
                if self._listener:
                    self._listener.on_restore_end(tp, self._store_of[tp[0]], total)

    def _notify_suspended(self) -> None:
        """The bootstrap stops for a wipe: the partitions not at their end yet are suspended (then start again)."""
        restoring, self._restoring = self._restoring, {}
        if self._listener:
            for tp, total in sorted(restoring.items()):
                self._listener.on_restore_suspended(tp, self._store_of[tp[0]], total)

    def _wipe(self, why: str) -> None:
        """Kafka's reinitialization of a corrupted global store: close it, delete the global state (stores and
        checkpoint; the lock stays held) and open it again empty (before any stream task holds it)."""
        log.warning("global state is corrupted (%s: the global topic was truncated, or deleted and re-created): "
                    "it is wiped and bootstrapped again from the beginning of the global topics", why)
        if self.consumer is not None:
            self.consumer.unassign()
        self.task = reopen_wiped(self.task, self.task_dir, self._reopened, "global task")
        self.records = 0
        self.corrupted += 1

    def _positions(self, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """The consumer's known positions (next offsets to read); a partition it has not fetched yet is left out."""
        assert self.consumer is not None
        return {(tp.topic, tp.partition): int(tp.offset)
                for tp in self.consumer.position([TopicPartition(*tp) for tp in partitions]) if tp.offset >= 0}

    def _position(self, tp: tuple[str, int]) -> int:
        assert self.consumer is not None
        return int(self.consumer.position([TopicPartition(*tp)])[0].offset)

    def _poll(self, timeout: float) -> set[tuple[str, int]]:
        assert self.consumer is not None
        grouped: dict[tuple[str, int], list[Any]] = {}
        touched: set[tuple[str, int]] = set()
        for m in self.consumer.consume(num_messages=10_000, timeout=timeout):
            tp: Any = (m.topic(), m.partition())
            touched.add(tp)
            err = m.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    continue
                if err.code() in OUT_OF_RANGE:
                    raise GlobalOffsetOutOfRange(f"global topic {tp[0]}-{tp[1]}: {err}")
                if err.fatal():
                    raise StateStoreError(f"global consumer: {err}")
                # transient (a leader moving, a topic being re-created): librdkafka retries by itself; said once
                # per partition until its error changes
                if self._errors.get(tp) != str(err):
                    self._errors[tp] = str(err)
                    log.warning("global consumer: %s-%s: %s (retrying)", tp[0], tp[1], err)
                continue
            grouped.setdefault(tp, []).append((m.offset(), m.timestamp()[1], m.key(), m.value(), m.headers() or ()))
        self._counts = {}
        for (topic, p), records in grouped.items():
            self.task.add_records(topic, p, records)
            self.records += len(records)
            self._counts[(topic, p)] = len(records)
        while self.task.process():
            pass
        return touched

    def _run(self) -> None:
        last_commit = time.monotonic()
        try:
            while not self._stop.is_set():
                if self._poll(0.1):
                    self.task.commit()
                if time.monotonic() - last_commit > 10:
                    self._checkpoint()
                    last_commit = time.monotonic()
        except GlobalOffsetOutOfRange as e:  # Kafka 4.x: wipe the global state on close, fail; a restart recovers
            log.error("Updating global state failed due to inconsistent local state (%s). Will attempt to clean up "
                      "the local state. You can restart KafkaStreams to recover from this error.", e)
            self._wipe_on_close = True
            self.error = StreamsException(f"Updating global state failed ({e}). You can restart KafkaStreams to "
                                          "launch a new global thread to recover from this error.")
            self.streams._thread_failed(self, self.error)
        except BaseException as e:  # reported to the client like a stream thread's failure
            self.error = e
            log.exception("global thread failed")
            self.streams._thread_failed(self, e)

    def _checkpoint(self) -> None:
        """The next offset to read per global partition (Kafka's global checkpoint), of those read so far."""
        self._offsets.update(self.task.committable_offsets())
        offsets = {tp: o for tp, o in self._offsets.items() if o >= 0}
        if offsets:
            write_global_checkpoint(self.task_dir, offsets)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        try:
            if self.task.initialized and not self.task.closed and self.error is None:
                self.task.commit()
                self._checkpoint()
            self.task.close()
            if self._wipe_on_close:
                wipe_task_dir(self.task_dir)
        finally:
            if self.consumer is not None:
                self.consumer.close()
                self.consumer = None
            self.lock.unlock()
