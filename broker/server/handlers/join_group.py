"""JoinGroup (11): park the member until the group's rebalance completes (classic protocol)."""
from __future__ import annotations

from pystreams.broker.coordinator.machine import JoinRequest
from pystreams.broker.server.handlers._util import version

API_KEY = 11
VERSIONS = (0, 9)


async def handle(header, request: dict, state, ctx) -> dict:
    """v4+ requires a known member id (MEMBER_ID_REQUIRED first), as Kafka does."""
    v = version(header)
    session = request["session_timeout_ms"]
    rebalance = request.get("rebalance_timeout_ms", -1)
    join = JoinRequest(
        group_id=request["group_id"], member_id=request["member_id"],
        group_instance_id=request.get("group_instance_id"), client_id=ctx.client_id,
        client_host=ctx.client_host, session_timeout_ms=session,
        rebalance_timeout_ms=rebalance if rebalance > 0 else session,
        protocol_type=request["protocol_type"],
        protocols=[(p["name"], bytes(p["metadata"])) for p in request["protocols"]],
        require_known_member_id=v >= 4)
    svc = state.coordinator
    response = await svc.call(svc.machine.join, join)
    if v < 7 and response.get("protocol_name") is None:
        response = {**response, "protocol_name": ""}  # nullable only from v7 on
    return {"throttle_time_ms": 0, **response}
