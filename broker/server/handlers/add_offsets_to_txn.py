"""AddOffsetsToTxn (25): adds the group's `__consumer_offsets` partition to the transaction,
so TxnOffsetCommit may write there and EndTxn puts a marker on it."""
from __future__ import annotations

from pystreams.broker.coordinator.transactions.service import OFFSETS_TOPIC
from pystreams.broker.server.handlers._txn import for_version, run_step
from pystreams.broker.server.handlers._util import version

API_KEY = 25
VERSIONS = (0, 4)


def handle(header, request: dict, state, ctx) -> dict:
    step = run_step(state, lambda svc: svc.machine.add_partitions(
        request["transactional_id"], request["producer_id"], request["producer_epoch"],
        [(OFFSETS_TOPIC, svc.offsets_partition(request["group_id"]))], state.clock_ms()))
    return {"throttle_time_ms": 0, "error_code": for_version(step.error, version(header), 2)}
