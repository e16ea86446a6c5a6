"""Our producer snapshots are Kafka's format: kafka-dump-log (Apache Kafka 4.1.1) reads them."""
from __future__ import annotations

import pytest

from pystreams.broker.log.producer_snapshot import snapshot_path, write_snapshot
from pystreams.broker.log.producer_state import BatchMetadata, ProducerEntry, ProducerStateManager
from tests.reference.tools import run_tool

pytestmark = pytest.mark.integration


def test_kafka_dump_log_reads_our_snapshot(tmp_path):
    state = ProducerStateManager()
    entry = ProducerEntry(3, last_timestamp=99)
    entry.batches.append(BatchMetadata(10, 12, 40, 42, 99))
    state.producers[7] = entry
    state.ongoing[7] = 30
    write_snapshot(tmp_path, 43, state)
    out = run_tool("kafka-dump-log", "--files", str(snapshot_path(tmp_path, 43)),
                   check=True).stdout
    assert ("producerId: 7 producerEpoch: 3 coordinatorEpoch: 0 currentTxnFirstOffset: "
            "OptionalLong[30] lastTimestamp: 99 firstSequence: 10 lastSequence: 12 "
            "lastOffset: 42 offsetDelta: 2 timestamp: 99") in out
