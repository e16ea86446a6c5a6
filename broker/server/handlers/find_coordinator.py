"""FindCoordinator (10): this node coordinates every group (and answers for transactions)."""
from __future__ import annotations

from pystreams.broker.server import codes
from pystreams.broker.server.handlers._util import version

API_KEY = 10
VERSIONS = (0, 6)
GROUP, TRANSACTION = 0, 1


def _error_for(key: str, key_type: int) -> tuple[int, str | None]:
    if key_type not in (GROUP, TRANSACTION):
        return codes.INVALID_REQUEST, f"unknown coordinator key type {key_type}"
    return 0, None


def handle(header, request: dict, state, ctx) -> dict:
    """v0-3 answer one key; v4+ a batch of keys."""
    key_type = request.get("key_type", GROUP)
    if version(header) < 4:
        error, message = _error_for(request.get("key", ""), key_type)
        ok = error == 0
        return {"throttle_time_ms": 0, "error_code": error, "error_message": message,
                "node_id": state.node_id if ok else -1, "host": state.host if ok else "",
                "port": state.port if ok else -1, "coordinators": []}
    coordinators = []
    for key in request.get("coordinator_keys", []):
        error, message = _error_for(key, key_type)
        ok = error == 0
        coordinators.append({"key": key, "node_id": state.node_id if ok else -1,
                             "host": state.host if ok else "", "port": state.port if ok else -1,
                             "error_code": error, "error_message": message or ""})
    return {"throttle_time_ms": 0, "coordinators": coordinators}
