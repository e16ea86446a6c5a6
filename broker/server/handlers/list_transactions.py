"""ListTransactions (66): transactional ids filtered by state, producer id and (v1) how long
they have been open (kafka-transactions.sh list / find-hanging)."""
from __future__ import annotations

from pystreams.broker.server.handlers._txn import service

API_KEY = 66
VERSIONS = (0, 1)


def handle(header, request: dict, state, ctx) -> dict:
    unknown, found = service(state).machine.list(
        list(request.get("state_filters") or []), list(request.get("producer_id_filters") or []),
        request.get("duration_filter", -1), state.clock_ms())
    return {"throttle_time_ms": 0, "error_code": 0, "unknown_state_filters": unknown,
            "transaction_states": found}
