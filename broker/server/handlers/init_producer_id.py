"""InitProducerId (22): producer ids for idempotent producers (the Java client and kafka-python
enable idempotence by default); a transactional.id goes to the transaction coordinator
(pystreams.broker.coordinator.transactions), which fences older instances by epoch.

Ids are unique across restarts without a store: milliseconds since the epoch times 1000 plus a
per-process counter (0-499 here, 500-999 for transactional ids)."""
from __future__ import annotations

import itertools

from pystreams.broker.server import codes

API_KEY = 22
VERSIONS = (0, 5)
_counter = itertools.count()


def handle(header, request: dict, state, ctx):
    if request.get("transactional_id"):  # the transaction coordinator's (awaitable) answer
        from pystreams.broker.coordinator.transactions.service import TransactionService
        return TransactionService.of(state).init_producer_id(header, request)
    known = request.get("producer_id", -1)
    if known >= 0:  # KIP-360: an idempotent producer bumps its epoch after an error
        epoch = request.get("producer_epoch", -1) + 1
        if epoch < 32767:
            return {"throttle_time_ms": 0, "error_code": 0, "producer_id": known,
                    "producer_epoch": epoch}
    pid = state.clock_ms() * 1000 + next(_counter) % 500
    return {"throttle_time_ms": 0, "error_code": 0, "producer_id": pid, "producer_epoch": 0}
