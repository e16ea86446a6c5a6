"""kafka-transactions.sh (Kafka's own Java admin tool) against both brokers: `describe` and
`list` show an open transaction as Ongoing with its partitions, then CompleteCommit/Abort."""
from __future__ import annotations

import pytest

from tests.integration.eos._eos import create_topic, txn_producer, unique
from tests.reference.tools import run_tool

pytestmark = pytest.mark.integration


def _rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.strip().splitlines()[1:] if line.strip()]


def test_describe_and_list_transactions(kafka_broker):
    bs = kafka_broker.bootstrap_servers
    topic, tid = unique("eos-tool"), unique("tx")
    create_topic(bs, topic, 2)
    p = txn_producer(bs, tid)
    p.begin_transaction()
    p.produce(topic, value="a", partition=1)
    p.flush(30)

    described = run_tool("kafka-transactions", "--bootstrap-server", bs, "describe",
                         "--transactional-id", tid, check=True).stdout
    header = described.strip().splitlines()[0].split()
    row = dict(zip(header, _rows(described)[0]))
    assert row["TransactionalId"] == tid and row["TransactionState"] == "Ongoing"
    assert row["TopicPartitions"] == f"{topic}-1"
    assert int(row["ProducerEpoch"]) == 0 and int(row["ProducerId"]) >= 0

    listed = run_tool("kafka-transactions", "--bootstrap-server", bs, "list", check=True).stdout
    mine = [r for r in _rows(listed) if r[0] == tid]
    assert len(mine) == 1 and mine[0][-1] == "Ongoing"

    p.commit_transaction(30)
    described = run_tool("kafka-transactions", "--bootstrap-server", bs, "describe",
                         "--transactional-id", tid, check=True).stdout
    row = dict(zip(described.strip().splitlines()[0].split(), _rows(described)[0]))
    assert row["TransactionState"] == "CompleteCommit"

    missing = run_tool("kafka-transactions", "--bootstrap-server", bs, "describe",
                       "--transactional-id", unique("nobody"))
    assert missing.returncode != 0
    assert "could not be found" in missing.stderr
