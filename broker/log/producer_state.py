"""Idempotent-producer and transaction state per partition (Kafka's ProducerStateManager):
per producer id, its epoch and the metadata of its last 5 batches, so a retried batch is
answered with its original offsets instead of being stored twice, a gap in sequence numbers is
refused (OUT_OF_ORDER_SEQUENCE_NUMBER) and a fenced epoch is refused (INVALID_PRODUCER_EPOCH);
and the open transactions, whose first offsets hold the last stable offset back.

The state is snapshotted at every segment roll and on close (producer_snapshot.py) and rebuilt
on open from the newest snapshot plus the batch headers after it. Producers whose last write is
older than producer.id.expiration.ms are forgotten, after which any sequence is accepted again
(as Kafka does when the state is gone); retention deleting a producer's batches does not forget
it (KAFKA-7190), so its retries stay recognised."""
from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from pystreams.broker.protocol.record_batch import ABORT_MARKER, BatchHeader

from .errors import InvalidProducerEpochError, OutOfOrderSequenceError

INT32_MAX = 2**31 - 1
NO_SEQUENCE = -1
NUM_BATCHES_TO_RETAIN = 5  # Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN


@dataclass(slots=True)
class BatchMetadata:
    """What a retried batch is matched against."""

    first_seq: int
    last_seq: int
    first_offset: int
    last_offset: int
    timestamp: int


@dataclass(slots=True)
class ProducerEntry:
    epoch: int
    batches: deque[BatchMetadata] = field(default_factory=lambda: deque(
        maxlen=NUM_BATCHES_TO_RETAIN))
    last_timestamp: int = -1

    @property
    def last_seq(self) -> int:
        return self.batches[-1].last_seq if self.batches else NO_SEQUENCE

    @property
    def last_offset(self) -> int:
        return self.batches[-1].last_offset if self.batches else -1


def last_sequence(h: BatchHeader) -> int:
    """baseSequence + lastOffsetDelta, wrapping past Int32.MAX as Kafka's sequences do."""
    if h.base_sequence == NO_SEQUENCE:
        return NO_SEQUENCE
    seq = h.base_sequence + h.last_offset_delta
    return seq - INT32_MAX - 1 if seq > INT32_MAX else seq


def _in_sequence(last_seq: int, next_seq: int) -> bool:
    return next_seq == last_seq + 1 or (next_seq == 0 and last_seq == INT32_MAX)


class ProducerStateManager:
    """Sequence/epoch bookkeeping for one partition; single-threaded like PartitionLog."""

    def __init__(self) -> None:
        self.producers: dict[int, ProducerEntry] = {}
        #: producer id -> first offset of its open transaction (holds the LSO back)
        self.ongoing: dict[int, int] = {}

    def first_unstable_offset(self) -> int | None:
        """The first offset of the oldest open transaction, if any."""
        return min(self.ongoing.values()) if self.ongoing else None

    def find_duplicate(self, headers: Sequence[BatchHeader]) -> BatchMetadata | None:
        """A batch of this payload that was already appended (a producer retry), if any."""
        for h in headers:
            entry = self.producers.get(h.producer_id) if h.producer_id >= 0 else None
            if entry is None or entry.epoch != h.producer_epoch or h.base_sequence < 0:
                continue
            last = last_sequence(h)
            for meta in entry.batches:
                if meta.first_seq == h.base_sequence and meta.last_seq == last:
                    return meta
        return None

    def check(self, headers: Sequence[BatchHeader]) -> None:
        """Raise unless every idempotent batch continues its producer's epoch and sequence
        (checked against the state as it will be after the earlier batches of this payload)."""
        pending: dict[int, tuple[int, int]] = {}  # pid -> (epoch, last_seq)
        for h in headers:
            if h.producer_id < 0 or h.is_control:
                continue
            entry = self.producers.get(h.producer_id)
            epoch, last_seq = pending.get(h.producer_id, (
                entry.epoch, entry.last_seq) if entry else (-1, NO_SEQUENCE))
            if h.producer_epoch < epoch:
                raise InvalidProducerEpochError(
                    f"producer {h.producer_id} epoch {h.producer_epoch} is older than the "
                    f"current epoch {epoch}")
            if h.base_sequence >= 0:
                if h.producer_epoch != epoch:
                    if h.base_sequence != 0 and epoch >= 0:
                        raise OutOfOrderSequenceError(
                            f"producer {h.producer_id}: a new epoch {h.producer_epoch} must "
                            f"start at sequence 0, not {h.base_sequence}")
                elif epoch >= 0 and last_seq != NO_SEQUENCE and not _in_sequence(
                        last_seq, h.base_sequence):
                    raise OutOfOrderSequenceError(
                        f"producer {h.producer_id} epoch {epoch}: expected sequence "
                        f"{last_seq + 1}, got {h.base_sequence}")
            pending[h.producer_id] = (h.producer_epoch, last_sequence(h))

    def update(self, h: BatchHeader, first_offset: int, last_offset: int, timestamp: int,
               marker: int | None = None) -> tuple[int, int] | None:
        """Record an appended (or, on load, found) batch. For a transaction marker (`marker`
        COMMIT/ABORT), closes the producer's open transaction and returns its
        (first offset, marker offset) when it was aborted."""
        if h.producer_id < 0:
            return None
        entry = self.producers.get(h.producer_id)
        if entry is None or entry.epoch != h.producer_epoch:
            entry = self.producers[h.producer_id] = ProducerEntry(h.producer_epoch)
        entry.last_timestamp = max(entry.last_timestamp, timestamp)
        if h.is_control:
            first = self.ongoing.pop(h.producer_id, None)
            if first is not None and marker == ABORT_MARKER:
                return first, last_offset
            return None
        if h.is_transactional:
            self.ongoing.setdefault(h.producer_id, first_offset)
        if h.base_sequence >= 0:
            entry.batches.append(BatchMetadata(h.base_sequence, last_sequence(h), first_offset,
                                               last_offset, timestamp))
        return None

    def remove_expired(self, now_ms: int, expiration_ms: int, log_start_offset: int) -> int:
        """Forget producers idle for producer.id.expiration.ms (`log_start_offset` is kept for
        the callers; retention alone never forgets a producer)."""
        doomed = [pid for pid, e in self.producers.items()
                  if pid not in self.ongoing and e.last_timestamp < now_ms - expiration_ms]
        for pid in doomed:
            del self.producers[pid]
        return len(doomed)
