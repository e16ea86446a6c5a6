"""What a stream thread does with a rebalance of our own group membership (runtime/group), cooperatively:
lost partitions close dirty, revoked ones commit and close, added ones start at their committed offsets (those of a
task still restoring its state: once it runs, pystreams/runtime/restore.py); the
tasks in none of them keep running through the rebalance (KIP-429). The thread's callbacks (_on_lost, _on_revoke,
_on_assign, named after Kafka's ConsumerRebalanceListener) do the task work; the consumer never subscribes, this
module assign()s and unassign()s its partitions."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, TopicPartition

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
        hook = getattr(thread.streams, "_on_assignment", None)
        if hook is not None:
            hook(thread, info)
        if thread._standby is not None:  # before actives: a standby becoming active hands its state dir over
            thread._standby.assign(info.standby_tasks)
    # committed offsets BEFORE restoring (Kafka's task initializeMetadata): the read waits while a zombie's
    # transaction with offsets for these partitions is open, so the restored changelog includes its outcome
    committed = thread._group.committed(sorted(rebalance.added)) if rebalance.added else {}
    thread._on_assign(consumer, [TopicPartition(t, p) for t, p in sorted(rebalance.assigned)])
    if rebalance.added:
        reset = OFFSET_BEGINNING if str(thread.config.get("auto.offset.reset")).lower() in _EARLIEST else OFFSET_END
        starts = [TopicPartition(t, p, committed[(t, p)] if committed.get((t, p), -1) >= 0 else reset)
                  for t, p in sorted(rebalance.added)]
        defer = getattr(thread, "_defer_assignment", None)
        if defer is not None:  # a RESTORING task's partitions are assigned (at these offsets) once it runs
            starts = defer(starts)
        if starts:
            assign(thread, starts)


def assign(thread: Any, starts: list[TopicPartition]) -> None:
    """incremental_assign() after the consumer has read the metadata of topics new to it: librdkafka asked for
    an offset of a partition whose leader it does not know yet retries only after 500 ms (measured: the first
    records came ~0.5-1 s later than with subscribe(), which reads the metadata first)."""
    consumer = thread._consumer
    known: set[str] | None = getattr(thread, "_metadata_known", None)
    if known is None:
        known = thread._metadata_known = set()
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
