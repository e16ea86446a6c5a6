"""What a stream thread does with a rebalance of our own group membership (runtime/group), cooperatively:
lost partitions close dirty, revoked ones commit and close, added ones start at their committed offsets (those of a
task still restoring its state: once it runs, pystreams/runtime/restore.py), read with one OffsetFetch whose metadata
also seeds the new tasks' partition times; the
tasks in none of them keep running through the rebalance (KIP-429). The thread's callbacks (_on_lost, _on_revoke,
_on_assign, named after Kafka's ConsumerRebalanceListener) do the task work; the consumer never subscribes, this
module assign()s and unassign()s its partitions."""
from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, TopicPartition

from pystreams.runtime.assignment.assignor import assignment_failure

_EARLIEST = ("earliest", "smallest", "beginning")


def poll_group(thread: Any) -> None:
    """Join/sync when needed (thread._group.poll()) and apply what changed to the thread's tasks and consumer."""
    polled = thread._group.poll()
    if polled is None:
        return
    rebalance, info = polled
    consumer = thread._consumer
    if rebalance.lost:
        thread._on_lost(consumer, [])
        unassign(consumer, rebalance.lost)
        return
    if rebalance.revoked:
        kept = {at.id for tp, at in thread.by_partition.items() if tp not in rebalance.revoked}
        thread._on_revoke(consumer, [TopicPartition(t, p) for t, p in sorted(rebalance.revoked)])
        unassign(consumer, rebalance.revoked)
        if thread._rejoin_pending or not kept <= set(thread.tasks):  # the commit failed: all tasks closed dirty
            thread._rejoin_pending = False
            thread._rejoin_group()
            return
    if info is not None:
        failure = assignment_failure(info)
        if failure is not None:  # after the revocation above (its tasks committed and closed), as Kafka's listener
            raise failure
        hook = getattr(thread.streams, "_on_assignment", None)
        if hook is not None:
            hook(thread, info)
        if thread._standby is not None:  # before actives: a standby becoming active hands its state dir over
            thread._standby.assign(info.standby_tasks)
    # committed offsets BEFORE restoring (Kafka's task initializeMetadata): the read waits while a zombie's
    # transaction with offsets for these partitions is open, so the restored changelog includes its outcome. One
    # OffsetFetch for all added partitions, with the metadata the new tasks start their partition times from
    # (_on_assign hands it to create_task: no second OffsetFetch per task)
    committed = thread._group.committed_with_metadata(sorted(rebalance.added)) if rebalance.added else {}
    thread._on_assign(consumer, [TopicPartition(t, p) for t, p in sorted(rebalance.assigned)], committed=committed)
    if rebalance.added:
        reset = OFFSET_BEGINNING if str(thread.config.get("auto.offset.reset")).lower() in _EARLIEST else OFFSET_END
        offsets = {tp: offset for tp, (offset, _metadata) in committed.items()}
        starts = [TopicPartition(t, p, offsets[(t, p)] if offsets.get((t, p), -1) >= 0 else reset)
                  for t, p in sorted(rebalance.added)]
        defer = getattr(thread, "_defer_assignment", None)
        if defer is not None:  # a RESTORING task's partitions are assigned (at these offsets) once it runs
            starts = defer(starts)
        if starts:
            assign(thread, starts)


class MetadataWarmup:
    """The main consumer reads its source topics' metadata on a helper thread while the stream thread joins the
    group, so the first assign() finds it read (12 ms of wall time with ~1 ms of CPU measured on Apache Kafka: the
    new consumer's first metadata request waits on its bootstrap connection). Only list_topics() runs there; the
    stream thread waits for it (wait()) before its first assign and before closing the consumer, so the consumer
    is never assigned, consumed from or closed while the helper uses it."""

    def __init__(self, consumer: Any, topics: Iterable[str], timeout_s: float = 5.0) -> None:
        self.topics = sorted(set(topics))
        self.read: set[str] = set()  # topics whose metadata the consumer read
        self._consumer = consumer
        self._timeout_s = timeout_s
        self._thread: threading.Thread | None = None

    def start(self, name: str) -> None:
        if self.topics:
            self._thread = threading.Thread(target=self._run, name=f"{name}-metadata", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        for topic in self.topics:
            try:
                self._consumer.list_topics(topic, timeout=self._timeout_s)
                self.read.add(topic)
            except Exception:  # noqa: BLE001 - only a head start: assign() reads what is missing itself
                return

    def wait(self) -> set[str]:
        """Block until the helper is done (at most its list_topics timeout per topic); the topics it read."""
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        return self.read


def assign(thread: Any, starts: list[TopicPartition]) -> None:
    """incremental_assign() after the consumer has read the metadata of topics new to it: librdkafka asked for
    an offset of a partition whose leader it does not know yet retries only after 500 ms (measured: the first
    records came ~0.5-1 s later than with subscribe(), which reads the metadata first). What the thread's
    MetadataWarmup read during the join counts as read."""
    consumer = thread._consumer
    known: set[str] | None = getattr(thread, "_metadata_known", None)
    if known is None:
        known = thread._metadata_known = set()
    warmup: MetadataWarmup | None = getattr(thread, "_metadata_warmup", None)
    if warmup is not None:
        thread._metadata_warmup = None
        known.update(warmup.wait())
    for topic in sorted({tp.topic for tp in starts} - known):
        try:
            consumer.list_topics(topic, timeout=5)
            known.add(topic)
        except Exception:  # noqa: BLE001 - only a head start: the assign below works without it, just later
            pass
    consumer.incremental_assign(starts)


def unassign(consumer: Any, partitions: Iterable[tuple[str, int]]) -> None:
    """incremental_unassign() of those partitions the consumer has (it refuses unknown ones)."""
    assigned = {(tp.topic, tp.partition) for tp in consumer.assignment()}
    gone = [TopicPartition(t, p) for t, p in sorted(partitions) if (t, p) in assigned]
    if gone:
        consumer.incremental_unassign(gone)
