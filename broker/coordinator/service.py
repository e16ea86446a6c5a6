"""The coordinator's glue to the broker: futures for parked requests, a ticker for deadlines,
and the `__consumer_offsets` topic as the only store (append, then replay, then reply).

Why: machine.py is pure (events in, records and replies out); this module is the one place
that touches the event loop and the log, so the ordering rule "a reply is sent only after its
records are in the log" lives in exactly one function (`_apply`).
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Callable, Protocol

from pystreams.broker.coordinator import records as rec
from pystreams.broker.coordinator.machine import CoordinatorConfig, GroupCoordinator, Outcome
from pystreams.broker.protocol.record_batch import (COMMIT_MARKER, build_batch, iter_batches,
                                                    read_records)

log = logging.getLogger("pystreams.broker.coordinator")
TICK_SECONDS = 0.1


class OffsetsLog(Protocol):
    """What the service needs of one `__consumer_offsets` partition (broker.log's PartitionLog,
    named structurally because the coordinator does not import the log room)."""

    @property
    def log_start_offset(self) -> int: ...

    @property
    def high_watermark(self) -> int: ...

    def read(self, fetch_offset: int, max_bytes: int) -> Any: ...

    def append(self, records: memoryview | bytes, *, now_ms: int, leader_epoch: int = 0,
               origin: str = "client") -> Any: ...


def java_string_hash(text: str) -> int:
    """Java's String.hashCode (over UTF-16 code units), which Kafka uses to place a group."""
    h = 0
    raw = text.encode("utf-16-be")
    for i in range(0, len(raw), 2):
        h = (31 * h + ((raw[i] << 8) | raw[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for(group_id: str, partitions: int) -> int:
    """The `__consumer_offsets` partition of a group: Kafka's abs(hashCode) % partitions."""
    h = java_string_hash(group_id)
    return (0 if h == -(1 << 31) else abs(h)) % partitions


async def stop_ticker(task: asyncio.Task[None] | None) -> None:
    """Cancel a coordinator's background ticker and wait until it has ended."""
    if task is not None:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass


def _is_commit(batch) -> bool:
    """Whether a control batch is a transaction COMMIT marker (key: version int16, type int16)."""
    records = read_records(batch)
    key = records[0].key if records else None
    return key is not None and len(key) >= 4 and int.from_bytes(key[2:4], "big") == COMMIT_MARKER


def drop_tombstoned(pending: dict[Any, list], keys: set[bytes]) -> None:
    """Remove the records of `keys` from held transactional offset commits: a tombstone removes
    the pending commits of its partition too (Kafka's OffsetMetadataManager.replay)."""
    if not keys:
        return
    for held_key, recs in list(pending.items()):
        kept = [(k, v) for k, v in recs if k not in keys]
        if len(kept) != len(recs):
            pending[held_key] = kept


class GroupService:
    """Runs a GroupCoordinator against the `__consumer_offsets` logs of this broker."""

    def __init__(self, config: CoordinatorConfig, partitions: int,
                 get_log: Callable[[int], OffsetsLog], clock_ms: Callable[[], int],
                 offsets_retention_ms: int = 7 * 24 * 3600 * 1000,
                 retention_check_ms: int = 600000) -> None:
        self.machine = GroupCoordinator(config)
        self.partitions = partitions
        self._get_log = get_log
        self._clock = clock_ms
        self._ticker: asyncio.Task[None] | None = None
        self.offsets_retention_ms = offsets_retention_ms
        self.retention_check_ms = retention_check_ms

    # --- loading ------------------------------------------------------------------------------
    def load(self) -> int:
        """Replay every `__consumer_offsets` partition; returns how many records were applied."""
        applied = 0
        now = self._clock()
        for p in range(self.partitions):
            plog = self._get_log(p)
            offset, end = plog.log_start_offset, plog.high_watermark
            pending: dict[int, list] = {}  # producer id -> offset records of its open txn
            while offset < end:
                fetched = plog.read(offset, 1 << 20)
                if not fetched.size:
                    break
                data = b"".join(os.pread(f if isinstance(f, int) else f.fileno(), n, pos)
                                for f, pos, n in fetched.chunks)
                for batch in iter_batches(data):
                    h = batch.header
                    if h.is_control:  # a transaction's end: apply its offsets only on COMMIT
                        held = pending.pop(h.producer_id, [])
                        if _is_commit(batch.buf):
                            for key, value in held:
                                self.machine.replay(key, value, now)
                                applied += 1
                        offset = h.last_offset + 1
                        continue
                    if h.is_transactional:  # TxnOffsetCommit: held until its marker
                        pending.setdefault(h.producer_id, []).extend(
                            (r.key, r.value) for r in read_records(batch.buf)
                            if r.key is not None)
                        offset = h.last_offset + 1
                        continue
                    for record in read_records(batch.buf):
                        if record.key is not None:
                            self.machine.replay(record.key, record.value, now)
                            applied += 1
                            if record.value is None:  # also ends open txn commits of it
                                drop_tombstoned(pending, {record.key})
                    offset = batch.header.last_offset + 1
        log.info("group metadata loaded", extra={"records": applied,
                                                  "groups": len(self.machine.groups)})
        return applied

    # --- running ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the deadline ticker on the running loop."""
        self._ticker = asyncio.get_running_loop().create_task(self._tick_forever())

    async def stop(self) -> None:
        """End the deadline ticker (the broker is shutting down)."""
        await stop_ticker(self._ticker)

    async def _tick_forever(self) -> None:
        last_expiry = self._clock()
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                now = self._clock()
                self._apply(self.machine.tick(now))
                if now - last_expiry >= self.retention_check_ms:
                    last_expiry = now
                    self._apply(self.machine.expire_offsets(now, self.offsets_retention_ms))
            except Exception:
                log.exception("group coordinator tick failed")

    def _apply(self, outcome: Outcome) -> None:
        """Append the outcome's records, replay them, then deliver its replies (in that order)."""
        if outcome.records:
            now = self._clock()
            by_partition: dict[int, list[tuple[bytes, bytes | None]]] = {}
            for group_id, key, value in outcome.records:
                by_partition.setdefault(partition_for(group_id, self.partitions), []).append(
                    (key, value))
            for p, recs in by_partition.items():
                batch = build_batch(recs, timestamp=now)
                try:
                    self._get_log(p).append(memoryview(batch), now_ms=now,
                                            origin="coordinator")
                except Exception as exc:
                    # Nothing may be acknowledged that is not in the log: fail every waiter
                    # (their connections close, clients retry) rather than reply success.
                    log.exception("cannot append to __consumer_offsets", extra={"partition": p})
                    for waiter, _ in outcome.replies:
                        if isinstance(waiter, asyncio.Future) and not waiter.done():
                            waiter.set_exception(exc)
                    return
                for key, value in recs:
                    self.machine.replay(key, value, now)
        for waiter, response in outcome.replies:
            if isinstance(waiter, asyncio.Future) and not waiter.done():
                waiter.set_result(response)

    async def call(self, event: Callable[..., Outcome], *args) -> dict:
        """Run one event with a fresh waiter and await its reply (now or after a rebalance)."""
        waiter: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        self._apply(event(waiter, self._clock(), *args))
        return await waiter

    def delete_topics(self, topics: set[str], pending: dict[Any, list]) -> int:
        """Deleted topics lose their committed offsets in every group, as tombstones in
        `__consumer_offsets` (so a restart agrees), and their open transactional offset commits
        in `pending` are dropped, so a COMMIT marker cannot bring them back (Kafka's
        onPartitionsDeleted and its replay of a tombstone). Returns how many were removed."""
        held = set()
        for recs in pending.values():
            for key, _ in recs:
                parsed = rec.decode_key(key)
                if isinstance(parsed, rec.OffsetKey):
                    held.add((parsed.group, parsed.topic, parsed.partition))
        outcome = self.machine.delete_topic_offsets(topics, held)
        self._apply(outcome)
        drop_tombstoned(pending, {key for _, key, _ in outcome.records})
        if outcome.records:
            log.info("offsets of deleted topics removed",
                     extra={"topics": sorted(topics), "tombstones": len(outcome.records)})
        return len(outcome.records)

    def run(self, outcome: Outcome) -> None:
        """Apply an outcome of an event that replies synchronously (DeleteGroups)."""
        self._apply(outcome)

    @property
    def now(self) -> int:
        return self._clock()
