"""The transaction coordinator's glue to the broker: `__transaction_state` as its only store
(append, replay, then answer), COMMIT/ABORT markers written to every partition of a
transaction, transactional offset commits held until their marker, and a timer that aborts
timed-out transactions.

Why synchronous markers: on one node every partition log is local, so an EndTxn answers only
after its markers are in every log and the CompleteCommit/CompleteAbort record is written;
the next transaction of the producer can never overlap the completion of the previous one."""
from __future__ import annotations

import asyncio
import itertools
import logging
import os
from typing import Any

from pystreams.broker.coordinator import records as group_records
from pystreams.broker.coordinator.service import drop_tombstoned, partition_for, stop_ticker
from pystreams.broker.protocol.record_batch import (ABORT_MARKER, COMMIT_MARKER, BatchError,
                                                    build_batch, build_control_batch,
                                                    iter_batches, parse_header, read_records)

from ..codes import (CONCURRENT_TRANSACTIONS, INVALID_PRODUCER_EPOCH, NONE, PRODUCER_FENCED,
                     UNSTABLE_OFFSET_COMMIT)
from .machine import MarkerRequest, Step, TransactionCoordinator
from .records import decode_key

log = logging.getLogger("pystreams.broker.coordinator.transactions")

TRANSACTION_STATE_TOPIC = "__transaction_state"
OFFSETS_TOPIC = "__consumer_offsets"
#: Kafka's defaults for the transaction coordinator keys we read
DEFAULTS = {"transaction.state.log.num.partitions": "50",
            "transaction.state.log.segment.bytes": "104857600",
            "transaction.max.timeout.ms": "900000",
            "transaction.abort.timed.out.transaction.cleanup.interval.ms": "10000",
            "transactional.id.expiration.ms": "604800000",
            "transaction.remove.expired.transaction.cleanup.interval.ms": "3600000"}
_pid_counter = itertools.count()


def _conf(state: Any, key: str) -> int:
    value = state.config.props.get(key, DEFAULTS[key])
    return int(str(value).strip())


def _read_all(plog: Any) -> list:
    """Every batch of a log, from its start to its end (loading only)."""
    out = []
    offset, end = plog.log_start_offset, plog.high_watermark
    while offset < end:
        fetched = plog.read(offset, 1 << 20)
        if not fetched.size:
            break
        data = b"".join(os.pread(f if isinstance(f, int) else f.fileno(), n, pos)
                        for f, pos, n in fetched.chunks)
        for batch in iter_batches(data):
            out.append(batch)
            offset = batch.header.last_offset + 1
    return out


class TransactionService:
    """Runs a TransactionCoordinator against this broker's logs; one per BrokerState."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self.machine = TransactionCoordinator(self._next_producer_id,
                                              _conf(state, "transaction.max.timeout.ms"))
        self.partitions = 0
        #: (producer id, offsets partition) -> [(key, value)] of TxnOffsetCommits not yet ended
        self.pending_offsets: dict[tuple[int, int], list[tuple[bytes, bytes]]] = {}
        self._ticker: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, state: Any) -> "TransactionService":
        """The broker's transaction coordinator, created and loaded on first use (creating
        `__transaction_state` then, as Kafka does), its timer started when a loop runs."""
        svc = getattr(state, "txn", None)
        if svc is None:
            svc = cls(state)
            svc.load()
            state.txn = svc
            try:
                asyncio.get_running_loop()
            except RuntimeError:  # no loop (unit tests drive it synchronously)
                return svc
            svc.start()
        return svc

    def _next_producer_id(self) -> int:
        """Unique across restarts without a store (as the idempotent InitProducerId does)."""
        return self.state.clock_ms() * 1000 + 500 + next(_pid_counter) % 500

    # --- loading ------------------------------------------------------------------------------
    def load(self) -> None:
        """Create `__transaction_state` if needed, replay it, finish prepared transactions, and
        recover transactional offset commits still open in `__consumer_offsets`."""
        state = self.state
        if TRANSACTION_STATE_TOPIC not in state.metadata.topics:
            state.create_topic(TRANSACTION_STATE_TOPIC,
                               _conf(state, "transaction.state.log.num.partitions"),
                               {"cleanup.policy": "compact", "segment.bytes":
                                str(_conf(state, "transaction.state.log.segment.bytes"))})
        self.partitions = state.metadata.topics[TRANSACTION_STATE_TOPIC].num_partitions
        for p in range(self.partitions):
            for batch in _read_all(state.partition_log(TRANSACTION_STATE_TOPIC, p)):
                if batch.header.is_control:
                    continue
                for record in read_records(batch.buf):
                    if record.key is not None:
                        self.machine.replay(record.key, record.value)
        self._recover_pending_offsets()
        now = state.clock_ms()
        for markers in self.machine.pending_completions():
            self._finish(markers, now)
        log.info("transaction state loaded", extra={"transactional_ids": len(self.machine.txns)})

    def _recover_pending_offsets(self) -> None:
        """TxnOffsetCommit batches of transactions still open in the offsets logs."""
        info = self.state.metadata.topics.get(OFFSETS_TOPIC)
        for p in range(info.num_partitions if info else 0):
            plog = self.state.partition_log(OFFSETS_TOPIC, p)
            ongoing = dict(plog.producer_state.ongoing)
            if not ongoing:
                continue
            for batch in _read_all(plog):
                h = batch.header
                if h.producer_id in ongoing and h.is_transactional and not h.is_control \
                        and h.base_offset >= ongoing[h.producer_id]:
                    entry = self.pending_offsets.setdefault((h.producer_id, p), [])
                    entry.extend((r.key, r.value) for r in read_records(batch.buf)
                                    if r.key is not None and r.value is not None)
                elif not h.is_transactional and self.pending_offsets:  # e.g. a deleted topic
                    drop_tombstoned(self.pending_offsets, {r.key for r in read_records(batch.buf)
                                                         if r.key is not None and r.value is None})

    # --- running ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the timed-out transaction aborter on the running loop."""
        if self._ticker is None:
            self._ticker = asyncio.get_running_loop().create_task(self._tick_forever())

    async def stop(self) -> None:
        """End the timed-out transaction aborter (the broker is shutting down)."""
        await stop_ticker(self._ticker)
        self._ticker = None

    async def _tick_forever(self) -> None:
        every = _conf(self.state, "transaction.abort.timed.out.transaction.cleanup.interval.ms")
        expire_every = _conf(self.state,
                             "transaction.remove.expired.transaction.cleanup.interval.ms")
        last_expiry = self.state.clock_ms()
        while True:
            await asyncio.sleep(every / 1000)
            try:
                self.abort_timed_out()
                now = self.state.clock_ms()
                if now - last_expiry >= expire_every:
                    last_expiry = now
                    self.expire_transactional_ids()
            except Exception:
                log.exception("transaction coordinator timer failed")

    def expire_transactional_ids(self) -> int:
        """Tombstone ids idle for transactional.id.expiration.ms; returns how many."""
        step = self.machine.expire_ids(self.state.clock_ms(),
                                       _conf(self.state, "transactional.id.expiration.ms"))
        self.run(step)
        return len(step.records)

    def abort_timed_out(self) -> int:
        """Abort (and fence) every transaction past its timeout; returns how many. Also
        retries the markers of a completion that failed half-way (e.g. a full disk)."""
        now = self.state.clock_ms()
        for markers in self.machine.pending_completions():
            self._finish(markers, now)
        steps = self.machine.expire(now)
        for step in steps:
            log.info("transaction timed out", extra={"transactional_id":
                                                     step.markers.transactional_id
                                                     if step.markers else None})
            self.run(step, now)
        return len(steps)

    def run(self, step: Step, now: int | None = None) -> Step:
        """Append the step's records, replay them, write its markers and complete."""
        now = self.state.clock_ms() if now is None else now
        if step.records:
            by_partition: dict[int, list[tuple[bytes, bytes | None]]] = {}
            for key, value in step.records:
                p = partition_for(decode_key(key), self.partitions)
                by_partition.setdefault(p, []).append((key, value))
            for p, recs in by_partition.items():
                plog = self.state.partition_log(TRANSACTION_STATE_TOPIC, p)
                plog.append(memoryview(build_batch(recs, timestamp=now)), now_ms=now,
                            origin="coordinator")
                for key, value in recs:
                    self.machine.replay(key, value)
        if step.markers is not None:
            self._finish(step.markers, now)
        return step

    def _finish(self, markers: MarkerRequest, now: int) -> None:
        """Write the markers to every partition, apply/drop held offsets, then CompleteX."""
        kind = COMMIT_MARKER if markers.commit else ABORT_MARKER
        batch = build_control_batch(kind, producer_id=markers.producer_id,
                                    producer_epoch=markers.producer_epoch, timestamp=now)
        for topic, partition in sorted(markers.partitions):
            plog = self.state.partition_log(topic, partition)
            if plog is None:  # deleted since it was added: nothing to mark
                continue
            plog.append(memoryview(batch), now_ms=now, origin="coordinator")
            if topic == OFFSETS_TOPIC:
                self._end_offsets(markers.producer_id, partition, markers.commit, now)
        self.state.notify_append()
        self.run(self.machine.complete(markers, now), now)

    def _end_offsets(self, producer_id: int, partition: int, commit: bool, now: int) -> None:
        held = self.pending_offsets.pop((producer_id, partition), None)
        group = getattr(self.state, "coordinator", None)
        if held and commit and group is not None:
            for key, value in held:
                group.machine.replay(key, value, now)

    # --- requests -----------------------------------------------------------------------------
    async def init_producer_id(self, header: Any, request: dict) -> dict:
        """InitProducerId for a transactional.id (the handler calls this)."""
        tid = request["transactional_id"]
        now = self.state.clock_ms()
        pid, epoch = request.get("producer_id", -1), request.get("producer_epoch", -1)
        step = self.run(self.machine.init_producer_id(
            tid, request["transaction_timeout_ms"], pid, epoch, now))
        if step.retry and not step.error:  # its open transaction is aborted now: bump again
            step = self.run(self.machine.init_producer_id(
                tid, request["transaction_timeout_ms"], -1, -1, self.state.clock_ms()))
        error = step.error
        if error == PRODUCER_FENCED and header.api_version < 4:
            error = INVALID_PRODUCER_EPOCH
        return {"throttle_time_ms": 0, "error_code": error,
                "producer_id": step.producer_id if not error else -1,
                "producer_epoch": step.producer_epoch if not error else -1}

    def offsets_partition(self, group_id: str) -> int:
        """The `__consumer_offsets` partition holding `group_id` (where its markers go)."""
        group = getattr(self.state, "coordinator", None)
        partitions = group.partitions if group is not None else \
            self.state.metadata.topics[OFFSETS_TOPIC].num_partitions
        return partition_for(group_id, partitions)

    def commit_offsets(self, tid: str, pid: int, epoch: int, group_id: str,
                       offsets: list[tuple[str, int, int, int, str | None]]) -> int:
        """TxnOffsetCommit: write the commits as a transactional batch into the group's
        `__consumer_offsets` partition; they are applied only when the COMMIT marker lands."""
        p = self.offsets_partition(group_id)
        error = self.machine.ongoing_error(tid, pid, epoch, (OFFSETS_TOPIC, p))
        if error:
            return error
        if not offsets:
            return NONE
        now = self.state.clock_ms()
        recs = [(group_records.encode_offset_key(group_records.OffsetKey(group_id, topic, part)),
                 group_records.encode_offset_value(group_records.OffsetValue(
                     offset, leader_epoch, metadata or "", now)))
                for topic, part, offset, leader_epoch, metadata in offsets]
        batch = build_batch(recs, timestamp=now, producer_id=pid, producer_epoch=epoch,
                            transactional=True)
        self.state.partition_log(OFFSETS_TOPIC, p).append(memoryview(batch), now_ms=now,
                                                          origin="coordinator")
        self.pending_offsets.setdefault((pid, p), []).extend(recs)
        return NONE


def verify_produce(state: Any, transactional_id: str | None, topic: str, partition: int,
                   records: Any) -> tuple[int, str] | None:
    """KIP-890 produce verification: a transactional batch is accepted only for a partition
    added to its producer's ongoing transaction; (error code, message) otherwise."""
    try:
        h = parse_header(memoryview(records))
    except (BatchError, ValueError, TypeError):
        return None  # the log's validation reports malformed batches
    if not h.is_transactional or h.producer_id < 0:
        return None
    svc = TransactionService.of(state)
    error = svc.machine.ongoing_error(transactional_id, h.producer_id, h.producer_epoch,
                                      (topic, partition))
    if not error:
        return None
    why = {INVALID_PRODUCER_EPOCH: "the producer epoch is fenced",
           CONCURRENT_TRANSACTIONS: "the transaction is completing"}.get(
        error, f"partition {topic}-{partition} is not part of an ongoing transaction of "
               f"{transactional_id!r}")
    return error, why


def mark_unstable(state: Any, group_id: str, topics: list[dict]) -> list[dict]:
    """OffsetFetch with require_stable (KIP-447): partitions of `group_id` with a transactional
    offset commit still pending get UNSTABLE_OFFSET_COMMIT (retriable) instead of an offset."""
    svc = getattr(state, "txn", None)
    if svc is None or not svc.pending_offsets:
        return topics
    pending: set[tuple[str, int]] = set()
    for recs in svc.pending_offsets.values():
        for key, _ in recs:
            parsed = group_records.decode_key(key)
            if isinstance(parsed, group_records.OffsetKey) and parsed.group == group_id:
                pending.add((parsed.topic, parsed.partition))
    for topic in topics:
        for part in topic["partitions"]:
            if (topic["name"], part["partition_index"]) in pending:
                part.update(committed_offset=-1, committed_leader_epoch=-1, metadata="",
                            error_code=UNSTABLE_OFFSET_COMMIT)
    return topics
