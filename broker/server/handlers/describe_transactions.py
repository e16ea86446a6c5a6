"""DescribeTransactions (65): state, producer id/epoch, timeout and partitions of each id
(kafka-transactions.sh describe)."""
from __future__ import annotations

from pystreams.broker.server.handlers._txn import service

API_KEY = 65
VERSIONS = (0, 0)


def handle(header, request: dict, state, ctx) -> dict:
    machine = service(state).machine
    return {"throttle_time_ms": 0, "transaction_states": [
        machine.describe(tid) for tid in request.get("transactional_ids") or []]}
