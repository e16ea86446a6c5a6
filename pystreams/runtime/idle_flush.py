"""Flush the record caches when the stream thread's input runs dry (pystreams.cache.flush.when.idle, at_least_once).

Why (docs/adr/0006-flush-the-cache-when-input-runs-dry.md): the record cache (statestore.cache.max.bytes) emits on
eviction and at commit only, so a caught-up app's stateful results waited up to commit.interval.ms although every
input record had been processed; a 100k-record benchmark run ended at the first commit, a second after start-up.
When the thread is caught up (its non-blocking poll found nothing, no task has buffered records, and every input
partition's fetched lag is 0) the dirty cache entries are flushed exactly as a commit's first step flushes them
(forwarded downstream, written to the stores and their changelogs), but nothing is committed: offsets and
checkpoints keep commit.interval.ms. Kafka's caches flush on eviction outside commits too, so downstream sees the
same kind of updates (the latest value per key, possibly more intermediate ones), only sooner.

Not under exactly_once_v2 (the output is invisible until the transaction commits; no extra transaction is
started), and never for suppression buffers, punctuators or standby tasks: they are not record caches.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from pystreams.runtime.task_lags import consumer_lags

log = logging.getLogger("pystreams.runtime")


class IdleCacheFlush:
    """The stream thread's decision and counters; one per thread, called once per poll, never per record.

    `pending()` says whether any record cache of the thread holds dirty entries (the thread then polls without
    waiting first, to learn whether the input ran dry); `input_ran_dry()` flushes when the thread is caught up."""

    __slots__ = ("behind", "cache", "caches_flushed", "flushes")

    def __init__(self, cache: Any) -> None:
        self.cache = cache  # the thread's ThreadCache (its named caches: one per task and cached store)
        self.flushes = 0  # idle flushes done
        self.caches_flushed = 0  # named caches they flushed
        self.behind = 0  # dry polls not flushed: an input partition's fetched lag was > 0 (prefetch ran empty)

    def pending(self) -> bool:
        """Whether some record cache of the thread holds dirty entries (a handful of named caches per thread)."""
        for named in self.cache.caches.values():
            if named.dirty:
                return True
        return False

    def input_ran_dry(self, tasks: Iterable[Any], consumer: Any, partitions: Iterable[tuple[str, int]]) -> int:
        """The non-blocking poll found nothing: flush the tasks' record caches (no commit) when no task has buffered
        records left and the consumer is caught up on every input partition; returns the caches flushed.

        Caught up = every partition's fetched lag (position vs. the high watermark of the last fetch answer,
        task_lags.consumer_lags, no broker request) is 0 or unknown: librdkafka's prefetch queue can run empty for
        a moment under load while the broker still holds records, and a flush then only adds traffic."""
        active = [at.task for at in tasks]
        if not active or any(task.has_records_queued() for task in active):
            return 0
        if consumer is not None and any(lag for lag in consumer_lags(consumer, partitions).values()):
            self.behind += 1
            return 0
        flushed = 0
        for task in active:
            flushed += task.flush_record_caches()
        if flushed:
            self.flushes += 1
            self.caches_flushed += flushed
        return flushed

    def summary(self) -> str:
        return (f"{self.flushes} idle cache flushes ({self.caches_flushed} caches), {self.behind} dry polls not "
                f"caught up")
