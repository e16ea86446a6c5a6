"""Heartbeat (12): keeps a member's session alive; REBALANCE_IN_PROGRESS asks it to rejoin."""
from __future__ import annotations

API_KEY = 12
VERSIONS = (0, 4)


async def handle(header, request: dict, state, ctx) -> dict:
    svc = state.coordinator
    response = await svc.call(svc.machine.heartbeat, request["group_id"],
                              request["generation_id"], request["member_id"],
                              request.get("group_instance_id"))
    return {"throttle_time_ms": 0, **response}
