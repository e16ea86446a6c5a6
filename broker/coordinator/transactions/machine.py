"""The transaction coordinator as a pure state machine (KIP-98, with KIP-360 epoch bumps).

Why pure: each event returns a Step (records for `__transaction_state`, markers to write, an
error); state changes only when those records are replayed, so replaying the topic after a
restart rebuilds exactly the state the clients saw. Clock and producer-id allocation are
injected; tests drive it without sockets or time.

Transaction version 1 (what clients use against brokers that advertise no `transaction.version`
feature): the producer epoch stays the same across transactions and is bumped on InitProducerId,
on a fence, and when a timed-out transaction is aborted."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Iterable

from ..codes import (CONCURRENT_TRANSACTIONS, INVALID_PRODUCER_EPOCH, INVALID_PRODUCER_ID_MAPPING,
                     INVALID_TRANSACTION_TIMEOUT, INVALID_TXN_STATE, NONE, PRODUCER_FENCED,
                     TRANSACTIONAL_ID_NOT_FOUND)
from .records import STATE_BY_NAME, TxnMetadata, TxnState, decode_key, decode_value, encode_key, \
    encode_value

MAX_EPOCH = 32767  # Short.MAX_VALUE: an epoch bump past MAX_EPOCH - 1 takes a new producer id
PREPARE = (TxnState.PREPARE_COMMIT, TxnState.PREPARE_ABORT, TxnState.PREPARE_EPOCH_FENCE)
COMPLETE = (TxnState.EMPTY, TxnState.COMPLETE_COMMIT, TxnState.COMPLETE_ABORT)


@dataclass(frozen=True)
class MarkerRequest:
    """COMMIT/ABORT markers to write to every partition of a transaction, then `complete()`."""

    transactional_id: str
    producer_id: int
    producer_epoch: int
    commit: bool
    partitions: frozenset[tuple[str, int]]


@dataclass
class Step:
    """What an event asks the service to do: append `records`, write `markers`, answer."""

    error: int = NONE
    records: list[tuple[bytes, bytes | None]] = field(default_factory=list)
    markers: MarkerRequest | None = None
    producer_id: int = -1
    producer_epoch: int = -1
    #: InitProducerId found an open transaction: after completing its abort, ask again
    retry: bool = False


def _bumped(meta: TxnMetadata, new_pid: Callable[[], int]) -> tuple[int, int]:
    if meta.producer_epoch >= MAX_EPOCH - 1:  # Kafka's isProducerEpochExhausted
        return new_pid(), 0
    return meta.producer_id, meta.producer_epoch + 1


class TransactionCoordinator:
    """transactional.id -> TxnMetadata, changed only through `replay`."""

    def __init__(self, next_producer_id: Callable[[], int], max_timeout_ms: int = 900000) -> None:
        self.txns: dict[str, TxnMetadata] = {}
        self._new_pid = next_producer_id
        self.max_timeout_ms = max_timeout_ms

    # --- records ------------------------------------------------------------------------------
    def replay(self, key: bytes, value: bytes | None) -> None:
        """Apply one `__transaction_state` record (the latest one per id wins)."""
        tid = decode_key(key)
        if value is None:
            self.txns.pop(tid, None)
        else:
            self.txns[tid] = decode_value(tid, value)

    @staticmethod
    def _write(step: Step, meta: TxnMetadata) -> Step:
        step.records.append((encode_key(meta.transactional_id), encode_value(meta)))
        return step

    # --- validation ---------------------------------------------------------------------------
    def _check(self, tid: str, pid: int, epoch: int) -> tuple[int, TxnMetadata | None]:
        meta = self.txns.get(tid)
        if meta is None or meta.producer_id != pid:
            return INVALID_PRODUCER_ID_MAPPING, meta
        if meta.producer_epoch != epoch:
            return PRODUCER_FENCED, meta
        return NONE, meta

    def ongoing_error(self, tid: str | None, pid: int, epoch: int,
                      partition: tuple[str, int] | None = None) -> int:
        """Why a transactional write by (pid, epoch) must be refused now, or NONE: the KIP-890
        check that the partition was added to the transaction that is open right now."""
        if not tid:
            return INVALID_TXN_STATE
        error, meta = self._check(tid, pid, epoch)
        if error == PRODUCER_FENCED and meta is not None and epoch > meta.producer_epoch:
            return INVALID_PRODUCER_EPOCH
        if error:
            return INVALID_PRODUCER_EPOCH if error == PRODUCER_FENCED else error
        assert meta is not None
        if meta.state != TxnState.ONGOING:
            return INVALID_TXN_STATE
        if partition is not None and partition not in meta.partitions:
            return INVALID_TXN_STATE
        return NONE

    # --- events -------------------------------------------------------------------------------
    def init_producer_id(self, tid: str, timeout_ms: int, pid: int, epoch: int, now: int) -> Step:
        """A (new or restarted) transactional producer: bump the epoch, fencing older instances;
        an open transaction of the id is aborted first (the step asks for a retry)."""
        if timeout_ms <= 0 or timeout_ms > self.max_timeout_ms:
            return Step(INVALID_TRANSACTION_TIMEOUT)
        meta = self.txns.get(tid)
        if meta is None:
            new = TxnMetadata(tid, self._new_pid(), 0, timeout_ms, TxnState.EMPTY,
                              last_update_ms=now)
            return self._write(Step(producer_id=new.producer_id, producer_epoch=0), new)
        if pid >= 0 and (pid != meta.producer_id or epoch != meta.producer_epoch):
            # KIP-360: a producer bumping its own epoch; a retry whose answer was lost gets the
            # current epoch again; anyone else is a zombie
            if pid == meta.producer_id and epoch == meta.producer_epoch - 1 \
                    and meta.state in COMPLETE:
                return Step(producer_id=meta.producer_id, producer_epoch=meta.producer_epoch)
            return Step(PRODUCER_FENCED)
        if meta.state in PREPARE:
            return Step(CONCURRENT_TRANSACTIONS)
        if meta.state == TxnState.ONGOING:
            return self._abort(meta, now, fence=True, retry=True)
        new_pid, new_epoch = _bumped(meta, self._new_pid)
        new = replace(meta, producer_id=new_pid, producer_epoch=new_epoch, timeout_ms=timeout_ms,
                      state=TxnState.EMPTY, partitions=frozenset(), last_update_ms=now,
                      start_ms=-1)
        return self._write(Step(producer_id=new_pid, producer_epoch=new_epoch), new)

    def add_partitions(self, tid: str, pid: int, epoch: int,
                       partitions: Iterable[tuple[str, int]], now: int) -> Step:
        """AddPartitionsToTxn/AddOffsetsToTxn: the transaction starts (Ongoing) or grows."""
        error, meta = self._check(tid, pid, epoch)
        if error:
            return Step(error)
        assert meta is not None
        if meta.state in PREPARE:
            return Step(CONCURRENT_TRANSACTIONS)
        wanted = frozenset(partitions)
        if meta.state == TxnState.ONGOING and wanted <= meta.partitions:
            return Step()
        start = meta.start_ms if meta.state == TxnState.ONGOING else now
        new = replace(meta, state=TxnState.ONGOING, partitions=meta.partitions | wanted,
                      last_update_ms=now, start_ms=start)
        return self._write(Step(), new)

    def end_txn(self, tid: str, pid: int, epoch: int, commit: bool, now: int) -> Step:
        """EndTxn: Ongoing -> PrepareCommit/PrepareAbort plus markers; a retry of a completed
        EndTxn with the same result succeeds, anything else is INVALID_TXN_STATE; an EndTxn
        while a completion is still in flight is CONCURRENT_TRANSACTIONS (never an empty OK)."""
        error, meta = self._check(tid, pid, epoch)
        if error:
            return Step(error)
        assert meta is not None
        state = meta.state
        if state == TxnState.ONGOING:
            return self._prepare(meta, commit, now, meta.producer_epoch)
        if state in PREPARE:
            same = (state == TxnState.PREPARE_COMMIT) == commit
            return Step(CONCURRENT_TRANSACTIONS if same or state == TxnState.PREPARE_EPOCH_FENCE
                        else INVALID_TXN_STATE)
        if (state == TxnState.COMPLETE_COMMIT and commit) or (
                state == TxnState.COMPLETE_ABORT and not commit):
            return Step()
        return Step(INVALID_TXN_STATE)

    def complete(self, markers: MarkerRequest, now: int) -> Step:
        """Every marker is written: PrepareX -> CompleteX, partitions forgotten."""
        meta = self.txns.get(markers.transactional_id)
        if meta is None or meta.state not in (TxnState.PREPARE_COMMIT, TxnState.PREPARE_ABORT):
            return Step()
        done = TxnState.COMPLETE_COMMIT if markers.commit else TxnState.COMPLETE_ABORT
        new = replace(meta, state=done, partitions=frozenset(), last_update_ms=now)
        return self._write(Step(), new)

    def expire(self, now: int) -> list[Step]:
        """Abort every Ongoing transaction older than its timeout, bumping the epoch so the
        (probably hung) producer is fenced, as Kafka's abortTimedOutTransactions does."""
        return [self._abort(meta, now, fence=True) for meta in list(self.txns.values())
                if meta.state == TxnState.ONGOING and meta.start_ms >= 0
                and now > meta.start_ms + meta.timeout_ms]

    def expire_ids(self, now: int, expiration_ms: int) -> Step:
        """transactional.id.expiration.ms: ids idle that long with no open transaction are
        removed with a tombstone (the compacted topic then forgets them, as Kafka's does)."""
        step = Step()
        for meta in list(self.txns.values()):
            if meta.state in COMPLETE and now - meta.last_update_ms > expiration_ms:
                step.records.append((encode_key(meta.transactional_id), None))
        return step

    def pending_completions(self) -> list[MarkerRequest]:
        """After loading: transactions that were preparing; their markers must be (re)written."""
        return [MarkerRequest(m.transactional_id, m.producer_id, m.producer_epoch,
                              m.state == TxnState.PREPARE_COMMIT, m.partitions)
                for m in self.txns.values()
                if m.state in (TxnState.PREPARE_COMMIT, TxnState.PREPARE_ABORT)]

    def _abort(self, meta: TxnMetadata, now: int, *, fence: bool, retry: bool = False) -> Step:
        epoch = meta.producer_epoch
        if fence:
            pid, epoch = _bumped(meta, self._new_pid)
            if pid != meta.producer_id:  # epoch exhausted: abort with the old id's last epoch
                epoch = meta.producer_epoch
        step = self._prepare(meta, False, now, epoch)
        step.retry = retry
        return step

    def _prepare(self, meta: TxnMetadata, commit: bool, now: int, epoch: int) -> Step:
        state = TxnState.PREPARE_COMMIT if commit else TxnState.PREPARE_ABORT
        new = replace(meta, state=state, producer_epoch=epoch, last_update_ms=now)
        step = self._write(Step(), new)
        step.markers = MarkerRequest(meta.transactional_id, meta.producer_id, epoch, commit,
                                     meta.partitions)
        return step

    # --- admin --------------------------------------------------------------------------------
    def describe(self, tid: str) -> dict:
        """One DescribeTransactions entry (TRANSACTIONAL_ID_NOT_FOUND when unknown)."""
        meta = self.txns.get(tid)
        if meta is None:
            return {"error_code": TRANSACTIONAL_ID_NOT_FOUND, "transactional_id": tid,
                    "transaction_state": "", "transaction_timeout_ms": 0,
                    "transaction_start_time_ms": -1, "producer_id": -1, "producer_epoch": -1,
                    "topics": []}
        by_topic: dict[str, list[int]] = {}
        for topic, partition in sorted(meta.partitions):
            by_topic.setdefault(topic, []).append(partition)
        return {"error_code": NONE, "transactional_id": tid,
                "transaction_state": meta.state.kafka_name,
                "transaction_timeout_ms": meta.timeout_ms,
                "transaction_start_time_ms": meta.start_ms, "producer_id": meta.producer_id,
                "producer_epoch": meta.producer_epoch,
                "topics": [{"topic": t, "partitions": ps} for t, ps in by_topic.items()]}

    def list(self, state_filters: list[str], pid_filters: list[int], duration_ms: int,
             now: int) -> tuple[list[str], list[dict]]:
        """ListTransactions: (unknown state names, matching transactions)."""
        unknown = [s for s in state_filters if s not in STATE_BY_NAME]
        states = {STATE_BY_NAME[s] for s in state_filters if s in STATE_BY_NAME}
        out = []
        for meta in sorted(self.txns.values(), key=lambda m: m.transactional_id):
            if state_filters and meta.state not in states:
                continue
            if pid_filters and meta.producer_id not in pid_filters:
                continue
            if duration_ms >= 0 and (meta.state != TxnState.ONGOING
                                     or now - meta.start_ms < duration_ms):
                continue
            out.append({"transactional_id": meta.transactional_id,
                        "producer_id": meta.producer_id,
                        "transaction_state": meta.state.kafka_name})
        return unknown, out
