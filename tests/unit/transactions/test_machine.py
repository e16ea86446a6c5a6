"""The transaction coordinator state machine: events in, records/markers out, state only by
replay (so replaying the records rebuilds the same state)."""
from __future__ import annotations

import itertools

import pytest

from pystreams.broker.coordinator.transactions import machine as m
from pystreams.broker.coordinator.transactions.records import TxnState

pytestmark = pytest.mark.unit


class Harness:
    """A coordinator whose records are replayed as the service would, with a log of them."""

    def __init__(self) -> None:
        ids = itertools.count(1000)
        self.c = m.TransactionCoordinator(lambda: next(ids), max_timeout_ms=60000)
        self.log: list[tuple[bytes, bytes | None]] = []
        self.markers: list[m.MarkerRequest] = []

    def run(self, step: m.Step, now: int = 0) -> m.Step:
        for key, value in step.records:
            self.log.append((key, value))
            self.c.replay(key, value)
        if step.markers is not None:
            self.markers.append(step.markers)
            self.run(self.c.complete(step.markers, now), now)
        return step

    def init(self, tid="t", timeout=10000, now=0, pid=-1, epoch=-1) -> m.Step:
        step = self.run(self.c.init_producer_id(tid, timeout, pid, epoch, now), now)
        if step.retry and not step.error:
            step = self.run(self.c.init_producer_id(tid, timeout, -1, -1, now), now)
        return step


def test_init_then_add_then_commit_writes_commit_markers_to_every_partition():
    h = Harness()
    s = h.init()
    assert (s.error, s.producer_id, s.producer_epoch) == (0, 1000, 0)
    assert h.run(h.c.add_partitions("t", 1000, 0, [("a", 0), ("b", 1)], 5), 5).error == 0
    assert h.c.txns["t"].state == TxnState.ONGOING and h.c.txns["t"].start_ms == 5
    assert h.run(h.c.end_txn("t", 1000, 0, True, 9), 9).error == 0
    assert h.markers == [m.MarkerRequest("t", 1000, 0, True, frozenset({("a", 0), ("b", 1)}))]
    meta = h.c.txns["t"]
    assert meta.state == TxnState.COMPLETE_COMMIT and meta.partitions == frozenset()


def test_replaying_the_records_rebuilds_the_state():
    h = Harness()
    h.init()
    h.run(h.c.add_partitions("t", 1000, 0, [("a", 0)], 1))
    h.init("u")
    other = m.TransactionCoordinator(lambda: 0)
    for key, value in h.log:
        other.replay(key, value)
    assert other.txns == h.c.txns


def test_second_init_fences_the_first_and_aborts_its_open_transaction():
    h = Harness()
    h.init()
    h.run(h.c.add_partitions("t", 1000, 0, [("a", 0)], 1))
    s = h.init(now=2)
    assert s.error == 0 and s.producer_epoch == 2  # fence bump (abort) + init bump, as Kafka
    assert h.markers[-1] == m.MarkerRequest("t", 1000, 1, False, frozenset({("a", 0)}))
    # the zombie (epoch 0) is fenced everywhere
    assert h.c.add_partitions("t", 1000, 0, [("a", 0)], 3).error == m.PRODUCER_FENCED
    assert h.c.end_txn("t", 1000, 0, True, 3).error == m.PRODUCER_FENCED
    assert h.c.ongoing_error("t", 1000, 0, ("a", 0)) == m.INVALID_PRODUCER_EPOCH


def test_end_txn_rules():
    h = Harness()
    h.init()
    # nothing open: never an empty success
    assert h.c.end_txn("t", 1000, 0, True, 1).error == m.INVALID_TXN_STATE
    assert h.c.end_txn("t", 999, 0, True, 1).error == m.INVALID_PRODUCER_ID_MAPPING
    assert h.c.end_txn("nope", 1000, 0, True, 1).error == m.INVALID_PRODUCER_ID_MAPPING
    h.run(h.c.add_partitions("t", 1000, 0, [("a", 0)], 1))
    prepare = h.c.end_txn("t", 1000, 0, True, 2)
    for key, value in prepare.records:  # PrepareCommit replayed, markers not yet written
        h.c.replay(key, value)
    assert h.c.end_txn("t", 1000, 0, True, 2).error == m.CONCURRENT_TRANSACTIONS
    assert h.c.end_txn("t", 1000, 0, False, 2).error == m.INVALID_TXN_STATE
    assert h.c.add_partitions("t", 1000, 0, [("a", 1)], 2).error == m.CONCURRENT_TRANSACTIONS
    assert h.c.ongoing_error("t", 1000, 0, ("a", 0)) == m.INVALID_TXN_STATE
    h.run(h.c.complete(prepare.markers, 3))
    assert h.c.end_txn("t", 1000, 0, True, 4).error == 0  # a retried commit
    assert h.c.end_txn("t", 1000, 0, False, 4).error == m.INVALID_TXN_STATE


def test_kip890_a_partition_not_added_is_refused():
    h = Harness()
    h.init()
    assert h.c.ongoing_error("t", 1000, 0, ("a", 0)) == m.INVALID_TXN_STATE
    h.run(h.c.add_partitions("t", 1000, 0, [("a", 0)], 1))
    assert h.c.ongoing_error("t", 1000, 0, ("a", 0)) == m.NONE
    assert h.c.ongoing_error("t", 1000, 0, ("a", 1)) == m.INVALID_TXN_STATE
    assert h.c.ongoing_error(None, 1000, 0, ("a", 0)) == m.INVALID_TXN_STATE
    h.run(h.c.end_txn("t", 1000, 0, True, 2))
    # a delayed produce of the finished transaction can never join the next one
    assert h.c.ongoing_error("t", 1000, 0, ("a", 0)) == m.INVALID_TXN_STATE


def test_timeout_aborts_with_an_epoch_bump():
    h = Harness()
    h.init(timeout=100)
    h.run(h.c.add_partitions("t", 1000, 0, [("a", 0)], 1000))
    assert h.c.expire(1100) == []
    steps = h.c.expire(1101)
    assert len(steps) == 1
    h.run(steps[0], 1101)
    assert h.markers[-1] == m.MarkerRequest("t", 1000, 1, False, frozenset({("a", 0)}))
    assert h.c.txns["t"].state == TxnState.COMPLETE_ABORT
    assert h.c.end_txn("t", 1000, 0, True, 1200).error == m.PRODUCER_FENCED


def test_timeout_bounds_and_epoch_exhaustion():
    h = Harness()
    assert h.init(timeout=0).error == m.INVALID_TRANSACTION_TIMEOUT
    assert h.init(timeout=60001).error == m.INVALID_TRANSACTION_TIMEOUT
    h.init()
    for _ in range(m.MAX_EPOCH - 1):
        h.init()
    assert h.c.txns["t"].producer_epoch == m.MAX_EPOCH - 1
    s = h.init()
    assert s.producer_id == 1001 and s.producer_epoch == 0


def test_kip360_known_producer_may_bump_and_a_stranger_is_fenced():
    h = Harness()
    h.init()
    assert h.init(pid=1000, epoch=0).producer_epoch == 1
    retry = h.init(pid=1000, epoch=0)  # its answer was lost: the same epoch, no second bump
    assert (retry.error, retry.producer_epoch) == (0, 1)
    assert h.init(pid=1000, epoch=3).error == m.PRODUCER_FENCED
    assert h.init(pid=77, epoch=1).error == m.PRODUCER_FENCED


def test_pending_completions_after_a_crash_between_prepare_and_complete():
    h = Harness()
    h.init()
    h.run(h.c.add_partitions("t", 1000, 0, [("a", 0)], 1))
    for key, value in h.c.end_txn("t", 1000, 0, False, 2).records:
        h.c.replay(key, value)
    assert h.c.pending_completions() == [m.MarkerRequest("t", 1000, 0, False,
                                                         frozenset({("a", 0)}))]


def test_describe_and_list():
    h = Harness()
    h.init("t")
    h.init("u")
    h.run(h.c.add_partitions("t", 1000, 0, [("a", 1), ("a", 0)], 50))
    d = h.c.describe("t")
    assert d["transaction_state"] == "Ongoing" and d["transaction_start_time_ms"] == 50
    assert d["topics"] == [{"topic": "a", "partitions": [0, 1]}]
    assert h.c.describe("zz")["error_code"] == m.TRANSACTIONAL_ID_NOT_FOUND
    unknown, found = h.c.list(["Ongoing", "Bogus"], [], -1, 100)
    assert unknown == ["Bogus"] and [t["transactional_id"] for t in found] == ["t"]
    assert [t["transactional_id"] for t in h.c.list([], [1001], -1, 100)[1]] == ["u"]
    assert h.c.list([], [], 60, 100)[1] == []
    assert [t["transactional_id"] for t in h.c.list([], [], 50, 100)[1]] == ["t"]


def test_idle_ids_expire_with_a_tombstone_open_ones_never():
    h = Harness()
    h.init("idle", now=0)
    h.init("busy", now=0)
    h.run(h.c.add_partitions("busy", 1001, 0, [("a", 0)], 0))
    step = h.c.expire_ids(now=10_000, expiration_ms=5_000)
    assert [value for _, value in step.records] == [None]
    h.run(step)
    assert set(h.c.txns) == {"busy"}  # an open transaction is not expired (it times out)
    assert h.c.expire_ids(now=10_000, expiration_ms=20_000).records == []
