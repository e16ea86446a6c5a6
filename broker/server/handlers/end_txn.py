"""EndTxn (26): commit or abort. The answer comes only after the COMMIT/ABORT markers are in
every partition's log and CompleteCommit/CompleteAbort is in `__transaction_state`."""
from __future__ import annotations

from pystreams.broker.server.handlers._txn import for_version, run_step
from pystreams.broker.server.handlers._util import version

API_KEY = 26
VERSIONS = (0, 4)


def handle(header, request: dict, state, ctx) -> dict:
    step = run_step(state, lambda svc: svc.machine.end_txn(
        request["transactional_id"], request["producer_id"], request["producer_epoch"],
        bool(request["committed"]), state.clock_ms()))
    return {"throttle_time_ms": 0, "error_code": for_version(step.error, version(header), 2)}
