"""InitProducerId (22): producer ids for idempotent producers (the Java client and kafka-python
enable idempotence by default). Transactions are not served by this broker yet.

Ids are unique across restarts without a store: milliseconds since the epoch times 1000 plus a
per-process counter. Sequence numbers are stored with the batches but not yet checked."""
from __future__ import annotations

import itertools

from pystreams.broker.server import codes

API_KEY = 22
VERSIONS = (0, 5)
_counter = itertools.count()


def handle(header, request: dict, state, ctx) -> dict:
    if request.get("transactional_id") is not None:
        return {"throttle_time_ms": 0, "error_code": codes.UNSUPPORTED_VERSION,
                "producer_id": -1, "producer_epoch": -1}
    known = request.get("producer_id", -1)
    if known >= 0:  # KIP-360: an idempotent producer bumps its epoch after an error
        epoch = request.get("producer_epoch", -1) + 1
        if epoch < 32767:
            return {"throttle_time_ms": 0, "error_code": 0, "producer_id": known,
                    "producer_epoch": epoch}
    pid = state.clock_ms() * 1000 + next(_counter) % 1000
    return {"throttle_time_ms": 0, "error_code": 0, "producer_id": pid, "producer_epoch": 0}
