"""The transaction coordinator through the real dispatcher and codec (encoded frames, no
sockets): markers in the logs, LSO, KIP-890 refusal, TxnOffsetCommit visibility, reload."""
from __future__ import annotations

import pytest

from pystreams.broker.log.transactions import marker_type
from pystreams.broker.protocol.record_batch import build_batch, iter_batches
from tests.unit.server._harness import Node

pytestmark = pytest.mark.unit
TXN_PROPS = {"transaction.state.log.num.partitions": "3"}


@pytest.fixture
def node(tmp_path):
    n = Node(tmp_path, **TXN_PROPS)
    n.state.create_topic("t", 2)
    yield n
    n.close()


def _init(node, tid="tx", timeout=60000):
    r = node.call(22, 4, {"transactional_id": tid, "transaction_timeout_ms": timeout,
                          "producer_id": -1, "producer_epoch": -1})
    assert r["error_code"] == 0
    return r["producer_id"], r["producer_epoch"]


def _add(node, pid, epoch, partitions, tid="tx"):
    r = node.call(24, 3, {"v3_and_below_transactional_id": tid, "v3_and_below_producer_id": pid,
                          "v3_and_below_producer_epoch": epoch,
                          "v3_and_below_topics": [{"name": "t", "partitions": partitions}]})
    return [p["partition_error_code"] for t in r["results_by_topic_v3_and_below"]
            for p in t["results_by_partition"]]


def _produce(node, pid, epoch, partition, seq, value=b"v", tid="tx"):
    batch = build_batch([(b"k", value)], producer_id=pid, producer_epoch=epoch,
                        base_sequence=seq, transactional=True)
    r = node.call(0, 9, {"transactional_id": tid, "acks": -1, "timeout_ms": 1000, "topic_data": [
        {"name": "t", "partition_data": [{"index": partition, "records": batch}]}]})
    return r["responses"][0]["partition_responses"][0]["error_code"]


def _end(node, pid, epoch, commit, tid="tx"):
    return node.call(26, 3, {"transactional_id": tid, "producer_id": pid,
                             "producer_epoch": epoch, "committed": commit})["error_code"]


def _markers(node, partition):
    plog = node.state.partition_log("t", partition)
    data = plog.read(0, 1 << 20).to_bytes()
    return [marker_type(v.buf) for v in iter_batches(data) if v.header.is_control]


def test_commit_writes_markers_then_lso_moves(node):
    pid, epoch = _init(node)
    assert _produce(node, pid, epoch, 0, 0) == 48  # KIP-890: partition 0 not added yet
    assert _add(node, pid, epoch, [0, 1]) == [0, 0]
    assert _produce(node, pid, epoch, 0, 0) == 0
    plog = node.state.partition_log("t", 0)
    assert plog.last_stable_offset == 0 and plog.high_watermark == 1
    assert _end(node, pid, epoch, True) == 0
    assert _markers(node, 0) == [1] and _markers(node, 1) == [1]  # COMMIT on both partitions
    assert plog.last_stable_offset == plog.high_watermark == 2
    assert _end(node, pid, epoch, True) == 0  # a retried commit
    assert _end(node, pid, epoch, False) == 48
    assert _produce(node, pid, epoch, 0, 1) == 48  # a late produce: the transaction is over


def test_abort_lists_the_aborted_transaction_and_fences_zombies(node):
    pid, epoch = _init(node)
    _add(node, pid, epoch, [0])
    assert _produce(node, pid, epoch, 0, 0) == 0
    pid2, epoch2 = _init(node)  # a new instance: the open transaction is aborted
    assert (pid2, epoch2) == (pid, epoch + 2)
    assert _markers(node, 0) == [0]
    plog = node.state.partition_log("t", 0)
    assert plog.aborted_transactions(0, plog.high_watermark) == [(pid, 0)]
    assert _add(node, pid, epoch, [1]) == [90]  # PRODUCER_FENCED
    assert _produce(node, pid, epoch, 0, 1) == 47  # INVALID_PRODUCER_EPOCH


def test_txn_offsets_visible_on_commit_and_state_reloads(tmp_path):
    node = Node(tmp_path, **TXN_PROPS)
    node.state.create_topic("t", 1)
    pid, epoch = _init(node)
    assert node.call(25, 3, {"transactional_id": "tx", "producer_id": pid,
                             "producer_epoch": epoch, "group_id": "g"})["error_code"] == 0

    def fetch(stable):
        r = node.call(9, 7, {"group_id": "g", "topics": [{"name": "t", "partition_indexes": [0]}],
                             "require_stable": stable})
        part = r["topics"][0]["partitions"][0]
        return part["error_code"], part["committed_offset"]
    commit = {"transactional_id": "tx", "group_id": "g", "producer_id": pid,
              "producer_epoch": epoch, "generation_id": -1, "member_id": "",
              "group_instance_id": None, "topics": [{"name": "t", "partitions": [
                  {"partition_index": 0, "committed_offset": 42, "committed_leader_epoch": -1,
                   "committed_metadata": ""}]}]}
    r = node.call(28, 3, commit)
    assert r["topics"][0]["partitions"][0]["error_code"] == 0
    assert fetch(True) == (88, -1) and fetch(False) == (0, -1)  # pending: not visible
    assert _end(node, pid, epoch, True) == 0
    assert fetch(True) == (0, 42)
    node.close()
    again = Node(tmp_path, **TXN_PROPS)  # reload: coordinator state and offsets come back
    try:
        d = again.call(65, 0, {"transactional_ids": ["tx"]})["transaction_states"][0]
        assert (d["transaction_state"], d["producer_id"]) == ("CompleteCommit", pid)
        r = again.call(9, 7, {"group_id": "g", "topics": [{"name": "t",
                                                           "partition_indexes": [0]}],
                              "require_stable": True})
        assert r["topics"][0]["partitions"][0]["committed_offset"] == 42
        pid2, epoch2 = _init(again)
        assert (pid2, epoch2) == (pid, epoch + 1)
    finally:
        again.close()


def test_expired_id_is_tombstoned_and_stays_gone_after_reload(tmp_path):
    props = {**TXN_PROPS, "transactional.id.expiration.ms": "0"}
    node = Node(tmp_path, **props)
    _init(node, "old")
    from pystreams.broker.coordinator.transactions.service import TransactionService
    node.state.clock_ms = lambda: 10**13  # far in the future
    assert TransactionService.of(node.state).expire_transactional_ids() == 1
    assert node.call(65, 0, {"transactional_ids": ["old"]})["transaction_states"][0][
        "error_code"] == 105
    node.close()
    again = Node(tmp_path, **props)
    try:
        assert again.call(65, 0, {"transactional_ids": ["old"]})["transaction_states"][0][
            "error_code"] == 105
    finally:
        again.close()
