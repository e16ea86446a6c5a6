"""Like Kafka Streams: every repartition.purge.interval.ms, delete repartition records below the committed
offsets (only this application reads them), so repartition topics do not grow without bound."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from confluent_kafka import TopicPartition

log = logging.getLogger("pystreams.runtime")


def _log_failure(future: Any) -> None:
    if future.exception() is not None:
        log.debug("purging a repartition topic failed: %s", future.exception())


class RepartitionPurger:
    """DeleteRecords of committed repartition offsets, at most once per interval; fire and forget."""

    def __init__(self, repartition_topics: Iterable[str], interval_ms: int) -> None:
        self.topics = frozenset(repartition_topics)
        self.interval_s = interval_ms / 1000.0
        self._last = time.monotonic()

    def maybe_purge(self, admin: Any, committed: Iterable[dict[tuple[str, int], int]]) -> None:
        """After a commit: the tasks' committed offsets; purging never fails processing."""
        now = time.monotonic()
        if now - self._last < self.interval_s:
            return
        self._last = now
        offsets = [TopicPartition(t, p, o) for task_offsets in committed
                   for (t, p), o in task_offsets.items() if t in self.topics and o > 0]
        if not offsets or admin is None:
            return
        try:
            for future in admin.delete_records(offsets, request_timeout=30).values():
                future.add_done_callback(_log_failure)
        except Exception as e:  # noqa: BLE001 - purging is housekeeping; never fail processing for it
            log.debug("purging repartition topics failed: %s", e)
