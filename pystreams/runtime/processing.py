"""The stream thread's hot path: hand a consumed batch to its tasks, then process every task's buffered records.

Kept apart from stream_thread.py (membership, commit, error handling) because it runs once per poll for every
record: per-batch bookkeeping only, nothing per record that can be done per batch.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from itertools import groupby
from typing import TYPE_CHECKING, Any

from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition

from pystreams.errors import ConfigError
from pystreams.processor.internals.task_idling import (
    MAX_TASK_IDLE_MS_CONFIG,
    TaskIdling,
)
from pystreams.runtime.config import DEFAULTS
from pystreams.runtime.task_lags import consumer_lags
from pystreams.runtime.task_metrics import NO_TASK_SENSORS

if TYPE_CHECKING:
    from pystreams.runtime.stream_thread import ThreadMetrics
    from pystreams.runtime.tasks import ActiveTask

log = logging.getLogger("pystreams.runtime")
_error_of = Message.error
_topic_of = Message.topic
_partition_of = Message.partition


def poll_records(consumer: Any, max_records: int, timeout: float) -> list[Any]:
    """Java's KafkaConsumer.poll(timeout) over librdkafka: up to max_records, returned as soon as any are there.

    librdkafka's consume(n, timeout) waits until n messages arrived or the timeout passed, so at a low input rate
    every poll waited the whole poll.ms before the records it already had were processed (the stateless p50 was
    ~poll.ms). Here: take what is ready without waiting; only when nothing is, block for the first message up to
    the timeout, then add what else is ready by then. A consume() call also serves the consumer's callbacks
    (rebalance, errors), as before."""
    messages: list[Any] = consumer.consume(max_records, 0)
    if messages or timeout <= 0:
        return messages
    messages = consumer.consume(1, timeout)
    if messages and max_records > 1:
        messages += consumer.consume(max_records - 1, 0)
    return messages


def hand_over(messages: list[Any], by_partition: dict[tuple[str, int], ActiveTask],
              max_buffered: int = -1) -> list[tuple[str, int]]:
    """Hand consumed records to their tasks, one add_messages call per run of the same partition (a slice of the
    batch: the Messages themselves, their fields are read once when deserialized); records of a partition revoked
    meanwhile are dropped (its new owner reads them). Per record only error(), partition() and topic().

    Returns the partitions whose queue now holds more than max_buffered records (buffered.records.per.partition;
    -1: no bound), for the thread to pause in one call (Backpressure.pause): Kafka's StreamTask.addRecords."""
    full: list[tuple[str, int]] = []
    n = len(messages)
    # not errors.count(None): KafkaError's == None fails inside librdkafka's binding; a KafkaError is always true
    if n and next(filter(None, map(_error_of, messages)), None) is None:
        # no error (the common case): the runs of a partition are found by C-level passes (map, groupby) instead
        # of a Python loop with three calls per record; the same _add calls in the same order
        topics = list(map(_topic_of, messages))
        if topics.count(topics[0]) == n:
            only_topic = topics[0]
            start = 0
            for one_partition, run in groupby(map(_partition_of, messages)):
                end = start + len(list(run))
                _add(by_partition, only_topic, one_partition,  # type: ignore[arg-type]  # consumed: has one
                     messages[start:end] if start or end < n else messages, max_buffered, full)
                start = end
            return full
    topic: str | None = None
    partition = -1
    start = 0  # first message of the current run
    i = -1
    for m in messages:
        i += 1
        err = m.error()
        if err is not None:
            if err.code() != KafkaError._PARTITION_EOF:
                if err.fatal() or not err.retriable():
                    raise KafkaException(err)
                log.warning("consumer: %s", err)
            if i > start and topic is not None:
                _add(by_partition, topic, partition, messages[start:i], max_buffered, full)
            start = i + 1
            continue
        p = m.partition()
        t = m.topic()
        if p != partition or t != topic:
            if i > start and topic is not None:
                _add(by_partition, topic, partition, messages[start:i], max_buffered, full)
            topic, partition, start = t, p, i
    if start <= i and topic is not None:
        _add(by_partition, topic, partition, messages[start:] if start else messages, max_buffered, full)
    return full


def _add(by_partition: dict[tuple[str, int], ActiveTask], topic: Any, partition: int, messages: list[Any],
         max_buffered: int, full: list[tuple[str, int]]) -> None:
    """One run of a partition to its task; the partition goes to `full` when its queue passed max_buffered."""
    at = by_partition.get((topic, partition))
    if at is not None:
        task = at.task
        task.add_messages(topic, partition, messages)
        if max_buffered >= 0 and task.buffered(topic, partition) > max_buffered:
            full.append((topic, partition))


def process_tasks(tasks: Iterable[ActiveTask], metrics: ThreadMetrics, last_commit: list[float],
                  consumer: Any = None) -> int:
    """Process every task until its buffers are empty (or, with several input partitions, until task idling
    says wait: max.task.idle.ms, needs the consumer's fetched lags), punctuate, and note a task's commit request
    (by zeroing `last_commit[0]`); returns the number of records processed and updates the process metrics."""
    processed = 0
    punctuated, punctuate_s = 0, 0.0  # Kafka's punctuate-*: tasks that punctuated, and the time it took
    clock = time.perf_counter
    # task-level (task_metrics.TaskSensors): active-process-ratio; process/punctuate latency at DEBUG
    sensors = getattr(metrics, "task_sensors", None) or NO_TASK_SENSORS
    debug = sensors.debug
    started = clock()
    for at in tasks:
        task = at.task
        if task.has_records_queued():
            t0 = clock()
            batch = getattr(task, "process_batch", None)
            idling = _idling(at, consumer) if batch is not None else None
            if idling is not None:
                done = _process_idling(task, idling, consumer,
                                       sensors.lateness_batches(at, batch, True) if debug else batch)
            elif batch is not None:  # one call per batch; stream-time punctuation between batches, as Kafka
                # DEBUG: per record, for record-lateness (Kafka's DEBUG sensor; INFO pays nothing per record)
                done = sensors.lateness_batches(at, batch)(1_000_000) if debug else batch(1_000_000)
            else:
                done = 0
                process = task.process
                while process():
                    done += 1
            processed += done
            p0 = clock()
            n = task.maybe_punctuate_stream_time()
            spent = clock() - p0
            sensors.record_process(at, done, p0 - t0)
            punctuated += n
            punctuate_s += spent
            if debug and n:
                sensors.record_punctuate(at, n, spent)
        p0 = clock()
        n = task.maybe_punctuate_system_time()
        spent = clock() - p0
        punctuated += n
        punctuate_s += spent
        if debug and n:
            sensors.record_punctuate(at, n, spent)
        if task.commit_requested:
            last_commit[0] = 0.0
    metrics.record_punctuate(punctuated, punctuate_s * 1000)  # every pass, with 0 too (marks punctuate-* measured)
    if processed:
        spent = (clock() - started - punctuate_s) * 1000  # Kafka's process latency leaves punctuation out
        metrics.processed += processed
        metrics.process_ms += spent
        metrics.process_latency_max_ms = max(metrics.process_latency_max_ms, spent / processed)
    return processed


def _idling(at: ActiveTask, consumer: Any) -> TaskIdling | None:
    """The task's idling state when it may have to wait (several input partitions, max.task.idle.ms != -1, a
    consumer to read lags from), else None; made on first use from the task's sub-topology and config."""
    task = at.task
    idling: TaskIdling | None = getattr(task, "idling", None)
    if idling is None:
        if consumer is None or not hasattr(task, "idling"):
            return None
        idle_ms = task.configs.get(MAX_TASK_IDLE_MS_CONFIG, DEFAULTS[MAX_TASK_IDLE_MS_CONFIG])
        task.idling = idling = TaskIdling(_input_partitions(at, consumer), idle_ms)
    return idling if idling.may_wait and consumer is not None else None


def _input_partitions(at: ActiveTask, consumer: Any) -> list[tuple[str, int]]:
    """The task's input partitions as assigned to the consumer (all of them are, once it has records): a topic of
    the sub-topology with fewer partitions than this task's number has none for it (Kafka's partition grouper),
    and pattern sources match the assigned topics."""
    sub, partition = at.sub, at.id.partition
    try:
        assigned = {(tp.topic, tp.partition) for tp in consumer.assignment()}
    except (KafkaException, RuntimeError):
        return [(topic, partition) for topic in sub.source_topics]
    return sorted((topic, p) for topic, p in assigned
                  if p == partition and (topic in sub.source_topics
                                         or any(pattern.fullmatch(topic) for pattern in sub.source_patterns)))


def _process_idling(task: Any, idling: TaskIdling, consumer: Any, batch: Any = None) -> int:
    """Kafka's StreamTask.isProcessable before each batch: the fetched lags once per poll, then batches while the
    task is ready; a batch stops when one of the task's queues runs dry (task.process_batch, or `batch` doing the
    same: the DEBUG one measuring record-lateness), so readiness is checked again before the next record, as Kafka
    does per record."""
    process_batch = batch or task.process_batch
    idling.update_lags(consumer_lags(consumer, idling.partitions))
    now = int(time.time() * 1000)
    buffered = task.buffered
    processed = 0
    while task.has_records_queued() and idling.ready_to_process(now, lambda tp: buffered(*tp)):
        done: int = process_batch(1_000_000)
        idling.processed(done)
        processed += done
        if not done:
            break
    return processed


BUFFERED_RECORDS_PER_PARTITION_CONFIG = "buffered.records.per.partition"


def parse_buffered_records(value: object) -> int:
    """buffered.records.per.partition as an int >= 0 (ConfigError otherwise)."""
    if isinstance(value, bool):
        raise ConfigError(f"{BUFFERED_RECORDS_PER_PARTITION_CONFIG} must be a number of records, got {value!r}")
    try:
        n = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ConfigError(f"{BUFFERED_RECORDS_PER_PARTITION_CONFIG} must be a number of records, "
                          f"got {value!r}") from None
    if n < 0:
        raise ConfigError(f"{BUFFERED_RECORDS_PER_PARTITION_CONFIG} must be >= 0, got {n}")
    return n


class Backpressure:
    """buffered.records.per.partition: which input partitions the main consumer has paused because their task
    queue is full (Kafka's StreamTask.addRecords pauses a partition whose queue holds more than the bound and
    resumePollingForPartitionsWithAvailableSpace resumes it once processing brought it back to the bound).

    Why: a task held back by task idling (max.task.idle.ms) or a slow sibling partition would otherwise buffer
    whatever the consumer fetches, without limit. Calls go to the consumer once per poll, never per record: pause()
    with the partitions hand_over() found full, resume_drained() after processing. A paused partition is resumed
    before it is given up (forget(): task closed, revoked, lost, rejoin), so no later owner of it, in this
    consumer, inherits a paused partition."""

    __slots__ = ("consumer", "limit", "paused", "pauses", "resumes")

    def __init__(self, consumer: Any, limit: int) -> None:
        self.consumer = consumer
        self.limit = limit
        self.paused: set[tuple[str, int]] = set()
        self.pauses = 0  # partitions paused so far (for tests and logs)
        self.resumes = 0

    def pause(self, full: list[tuple[str, int]]) -> None:
        """Pause the partitions hand_over() found above the bound (one consumer call)."""
        new = [tp for tp in dict.fromkeys(full) if tp not in self.paused]
        if not new:
            return
        self.consumer.pause([TopicPartition(t, p) for t, p in new])
        self.paused.update(new)
        self.pauses += len(new)
        log.debug("paused %s: more than %d records buffered", new, self.limit)

    def resume_drained(self, by_partition: dict[tuple[str, int], ActiveTask]) -> None:
        """After processing: resume the paused partitions whose queue is back at or below the bound (one call);
        a partition whose task is gone is resumed too (forget() normally did that already)."""
        limit = self.limit
        ready = []
        for tp in self.paused:
            at = by_partition.get(tp)
            if at is None or at.task.buffered(*tp) <= limit:
                ready.append(tp)
        if ready:
            self._resume(ready)

    def forget(self, partitions: Iterable[tuple[str, int]] | None = None) -> None:
        """Resume and forget paused partitions that are given up (None: all of them)."""
        gone = list(self.paused) if partitions is None else [tp for tp in partitions if tp in self.paused]
        if gone:
            self._resume(gone)

    def _resume(self, partitions: list[tuple[str, int]]) -> None:
        self.paused.difference_update(partitions)
        self.resumes += len(partitions)
        try:
            self.consumer.resume([TopicPartition(t, p) for t, p in sorted(partitions)])
        except KafkaException as e:  # e.g. no longer assigned: nothing left paused in the consumer to undo
            log.debug("resuming %s: %s", partitions, e)
